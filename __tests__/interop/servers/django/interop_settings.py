"""Django settings of the interop suite's django-oauth-toolkit server (see ../django-oauth-toolkit.ts).

Everything that changes per run comes from the environment: INTEROP_STATE_DIR (a temp dir made by the test, holding
the sqlite database and the OIDC signing key), INTEROP_ACCESS_TOKEN_SECONDS. Nothing here is for production.
"""
import os

STATE_DIR = os.environ["INTEROP_STATE_DIR"]

SECRET_KEY = "interop-tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "interop_urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "oauth2_provider",
]
# CommonMiddleware: APPEND_SLASH answers /o/.well-known/openid-configuration with a 301 to the spelling with a slash,
# as a stock Django deployment does (the library must follow it).
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(STATE_DIR, "db.sqlite3"),
        # 50 concurrent requests in threads: wait for sqlite's write lock instead of failing at once.
        "OPTIONS": {"timeout": 20},
    }
}

# The user's password hash only costs time here (the default PBKDF2 takes ~0.2 s a grant); the grants and their
# answers are the same whatever the hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

with open(os.path.join(STATE_DIR, "oidc.key"), encoding="ascii") as key_file:
    OIDC_KEY = key_file.read()

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("INTEROP_ACCESS_TOKEN_SECONDS", "3600")),
    "ROTATE_REFRESH_TOKEN": True,  # DOT's default, stated: the suite proves rotation
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # an old refresh token is refused at once
    "OIDC_ENABLED": True,  # publishes /o/.well-known/openid-configuration/ for the discovery test
    "OIDC_RSA_PRIVATE_KEY": OIDC_KEY,
    "SCOPES": {"read": "read the API", "openid": "OpenID Connect"},
    "DEFAULT_SCOPES": ["read"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
