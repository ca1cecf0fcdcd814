"""Starts the interop suite's django-oauth-toolkit server on 127.0.0.1 and a free port.

Migrates a fresh sqlite database in INTEROP_STATE_DIR, creates the user and the confidential password-grant client
named by INTEROP_USERNAME / INTEROP_PASSWORD / INTEROP_CLIENT_ID / INTEROP_CLIENT_SECRET, and a second confidential
client for the client credentials grant, INTEROP_SERVICE_CLIENT_ID / INTEROP_SERVICE_CLIENT_SECRET (a DOT application
has exactly one authorization_grant_type), binds port 0 (no race for a port), prints one JSON line {"port", "versions"} on stdout and serves until killed. Django's own threaded WSGI
server (what `manage.py runserver` runs), with a listen backlog large enough for a 50-request burst.
"""
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interop_settings")


def write_signing_key():
    """The OIDC signing key DOT needs to publish discovery: a fresh RSA key per run, in the state dir."""
    from jwcrypto import jwk

    path = os.path.join(os.environ["INTEROP_STATE_DIR"], "oidc.key")
    if not os.path.exists(path):
        with open(path, "wb") as key_file:
            key_file.write(jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None))


write_signing_key()

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
import oauth2_provider  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402
import oauthlib  # noqa: E402


class Server(ThreadedWSGIServer):
    request_queue_size = 256


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per request would drown the test output
        if os.environ.get("INTEROP_SERVER_LOG"):
            super().log_message(format, *args)


def main():
    call_command("migrate", verbosity=0, interactive=False)
    get_user_model().objects.create_user(os.environ["INTEROP_USERNAME"], password=os.environ["INTEROP_PASSWORD"])
    Application = get_application_model()
    Application.objects.create(
        name="interop",
        client_id=os.environ["INTEROP_CLIENT_ID"],
        client_secret=os.environ["INTEROP_CLIENT_SECRET"],  # DOT 1.7 stores it as given (hashing came in 2.0)
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
    )
    Application.objects.create(
        name="interop-service",
        client_id=os.environ["INTEROP_SERVICE_CLIENT_ID"],
        client_secret=os.environ["INTEROP_SERVICE_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    server = Server(("127.0.0.1", 0), QuietHandler, ipv6=False)
    server.set_app(get_wsgi_application())
    versions = {
        "django-oauth-toolkit": oauth2_provider.__version__,
        "django": django.get_version(),
        "oauthlib": oauthlib.__version__,
        "python": sys.version.split()[0],
    }
    print(json.dumps({"port": server.server_address[1], "versions": versions}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
