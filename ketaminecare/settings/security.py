"""Keys, hosts, headers, the Content-Security-Policy, request limits and the sign-in lockout.

They fail closed: DEBUG is off unless DEBUG=1 says otherwise, and a server without SECRET_KEY
refuses to start unless DEBUG is explicitly on.
"""

import datetime as dt
import os

from ketaminecare.settings.environment import env_bool, env_list

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set (or DEBUG=1 for development only)")
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105 (DEBUG only)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# How many proxies the operator runs in front of the web processes, each appending the address it
# saw to X-Forwarded-For. 0: the header is not believed at all (ketaminecare/client.py).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# What a request may carry (ketaminecare/limits.py); each limit is answered in the JSON error shape.
MAX_URL_LENGTH = int(os.environ.get("MAX_URL_LENGTH", "4096"))
MAX_REQUEST_BODY_BYTES = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("MAX_REQUEST_FIELDS", "1000"))

# Sign-in lockout per account, for every way of signing in (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# The pages that sign in by form, throttled per client address like the API's token endpoint.
SIGN_IN_URL_NAMES = ["web:sign-in", "admin:login", "rest_framework:login"]
# Axes warns (W006) that an address is not locked as well. On purpose: a clinic's staff often share
# one address (NAT), and five typos among them must not lock the whole clinic out. Guessing from
# one address is held back by the login throttle per client address (LOGIN_THROTTLE_RATE) on every
# sign-in path (accounts/middleware.py).
SILENCED_SYSTEM_CHECKS = [
    "axes.W006",
    # "Fixed default value" for a TimeField fires only while the clock reads that time of day (a
    # patient's quiet hours end at 08:00 by default: a warning from 07:59:50 to 08:00:10). A time
    # of day is meant to be fixed.
    "fields.W161",
]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ketaminecare.client.client_address"
AXES_HTTP_RESPONSE_CODE = 429
# A sign-in face that answered the lockout in its own words (the API's JSON, the web page) keeps
# its answer; the others get one plain sentence.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Axes' own log lines name the username; accounts/lockout.py logs the lockout by user id instead.
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True

# A Content-Security-Policy on every page (django-csp): the service's own scripts only, no inline
# script. Inline styles are allowed: Swagger UI and the admin set style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Production hardening, on whenever DEBUG is off (``manage.py check --deploy`` stays clean).
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # TLS ends at the proxy, which says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
