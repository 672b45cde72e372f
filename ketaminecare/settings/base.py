"""The project itself: apps, middleware, templates, databases, cache, sign-in and API tokens, time."""

import os
from pathlib import Path

import dj_database_url

from ketaminecare.settings.environment import BASE_DIR

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_htmx",
    # From the ground up: an app imports only the apps listed before it.
    "audit",
    "accounts",
    "clinic",
    "patients",
    "courses",
    "sessions.apps.TreatmentSessionsConfig",
    "measures",
    "reminders",
    "calendars",
    # The faces: the admin and the operators' commands, and the pages people use (the API is a
    # package: it needs no app).
    "backoffice",
    "web",
]

MIDDLEWARE = [
    "ketaminecare.logging.RequestIdMiddleware",
    "ketaminecare.limits.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files keep their long caching, everything dynamic is no-store.
    "ketaminecare.headers.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ketaminecare.roles.RolesOncePerRequestMiddleware",
    "accounts.middleware.SignInThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for a locked account into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ketaminecare.urls"
WSGI_APPLICATION = "ketaminecare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.navigation.menu",
            ],
        },
    },
]

# The embedded default is SQLite under var/. BEGIN IMMEDIATE makes every atomic block take
# the write lock up front, so booking checks and inserts are serialised as the rules require.
SQLITE_PATH = BASE_DIR / "var" / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SQLITE_PATH.parent.mkdir(exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: every query here is short, and PostgreSQL compiles one whose estimated
    # cost passes jit_above_cost, which took 57 of the window board's 60 ms in the year-size
    # clinic while returning nothing (bench/web.py). Operators who want it set PG_JIT=on.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"]["options"] = f"-c jit={os.environ.get('PG_JIT', 'off')}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# A cache shared by every web process when Redis is there (login throttling counts across all
# gunicorn workers); a per-process memory cache on the embedded default.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "kc"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Axes first: it refuses a locked account before any password is checked (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# People sign in on the front page (web/), then land on their role's home page.
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:sign-in"

# API tokens (accounts/): unused for API_TOKEN_IDLE_MINUTES, or API_TOKEN_MAX_HOURS after issue, a
# token ends. A password change or a deactivation revokes every token of the user.
API_TOKEN_IDLE_MINUTES = int(os.environ.get("API_TOKEN_IDLE_MINUTES", "60"))
API_TOKEN_MAX_HOURS = int(os.environ.get("API_TOKEN_MAX_HOURS", "12"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The clinic's own zone: opening hours, closure days and maintenance series are wall-clock
# times here. Instants are stored in UTC.
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The front-end packages npm installs (package.json, pinned by package-lock.json), served by
# whitenoise from the app itself under static/vendor/<name>/: no page loads code from elsewhere.
FRONT_END_PACKAGES = [
    ("vendor/event-calendar", BASE_DIR / "node_modules" / "@event-calendar" / "build" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STATICFILES_DIRS = [(prefix, folder) for prefix, folder in FRONT_END_PACKAGES if folder.is_dir()]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
