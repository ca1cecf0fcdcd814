"""URLs of the interop server: DOT's endpoints under /o/, and a protected API under /api/ that accepts only a valid
access token issued by this server (checked by DOT's own OAuthLibCore.verify_request, as ProtectedResourceView does).

/interop/expire is a test control (see expire()).

A client credentials token has no user (DOT stores user=None): the API answers {"user": null} for it.

ProtectedResourceView answers 403 to a missing or dead token; an RFC 6750 resource server answers 401 with
WWW-Authenticate, which is what starts the library's renewal, so the view is written out here.
"""
from datetime import timedelta

from django.http import HttpResponseNotAllowed, JsonResponse
from django.urls import include, path, re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_backends import get_oauthlib_core


def protected(request):
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        response = JsonResponse({"error": "invalid_token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        return response
    return JsonResponse(
        {
            "user": None if oauth_request.user is None else oauth_request.user.username,
            "client": oauth_request.client.client_id,
            "path": request.path,
        }
    )


@csrf_exempt
def expire(request):
    """Test control, not part of DOT: makes one access token expired in the database (its refresh token untouched)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    expired = timezone.now() - timedelta(seconds=1)
    updated = get_access_token_model().objects.filter(token=request.POST.get("token", "")).update(expires=expired)
    return JsonResponse({"expired": updated})


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    re_path(r"^api/", protected),
    path("interop/expire", expire),
]
