"""Settings for KetamineCare, read from the environment.

They fail closed: DEBUG is off unless DEBUG=1 says otherwise, and a server without SECRET_KEY
refuses to start unless DEBUG is explicitly on (``bin/demo`` and ``bin/test`` set DEBUG=1).
Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and TIME_ZONE.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


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
    # From the ground up: an app imports only the apps listed before it.
    "audit",
    "accounts",
    "clinic",
    "patients",
    "courses",
    "sessions.apps.TreatmentSessionsConfig",
    "reminders",
    "calendars",
    # The faces: the admin and the operators' commands (the API is a package: it needs no app).
    "backoffice",
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
    "accounts.middleware.SignInThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for a locked account into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

# What a request may carry (ketaminecare/limits.py); each limit is answered in the JSON error shape.
MAX_URL_LENGTH = int(os.environ.get("MAX_URL_LENGTH", "4096"))
MAX_REQUEST_BODY_BYTES = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("MAX_REQUEST_FIELDS", "1000"))

ROOT_URLCONF = "ketaminecare.urls"
WSGI_APPLICATION = "ketaminecare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ketaminecare" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked account before any password is checked (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

# Sign-in lockout per account, for every way of signing in (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# The pages that sign in by form, throttled per client address like the API's token endpoint.
SIGN_IN_URL_NAMES = ["admin:login", "rest_framework:login"]
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
# Axes' own log lines name the username; accounts/lockout.py logs the lockout by user id instead.
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True

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
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

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

# Celery (ketaminecare/celery.py reads every CELERY_* setting). The broker is Redis when REDIS_URL
# is set; on the embedded default it is kombu's filesystem transport under var/celery/, so that a
# worker and the scheduler on one machine still pass reminders to each other without Redis.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    CELERY_DATA_DIR = BASE_DIR / "var" / "celery"
    for _folder in ("queue", "processed"):
        (CELERY_DATA_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task that runs past the soft limit gets an exception; past the hard limit its process is
# killed. The hard limit stays below REMINDER_LEASE_SECONDS: no batch outlives its lease.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "100"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "120"))
# One message at a time per process: a killed worker holds back as little as possible.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Reminders (reminders/services/sweep.py). The sweep runs every REMINDER_SWEEP_SECONDS from the
# one beat process; it claims due rows in batches, each with a lease.
REMINDER_SWEEP_SECONDS = int(os.environ.get("REMINDER_SWEEP_SECONDS", "60"))
REMINDER_BATCH_SIZE = int(os.environ.get("REMINDER_BATCH_SIZE", "100"))
REMINDER_SWEEP_LIMIT = int(os.environ.get("REMINDER_SWEEP_LIMIT", "20000"))
REMINDER_LEASE_SECONDS = int(os.environ.get("REMINDER_LEASE_SECONDS", "300"))
if REMINDER_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise RuntimeError("REMINDER_LEASE_SECONDS must exceed CELERY_TASK_TIME_LIMIT")
REMINDER_MAX_ATTEMPTS = int(os.environ.get("REMINDER_MAX_ATTEMPTS", "5"))
REMINDER_RETRY_BASE_SECONDS = int(os.environ.get("REMINDER_RETRY_BASE_SECONDS", "60"))
REMINDER_RETRY_MAX_SECONDS = int(os.environ.get("REMINDER_RETRY_MAX_SECONDS", "3600"))
# A patient reminder this close to its session or appointment goes even in quiet hours.
REMINDER_QUIET_HOURS_EXEMPT_MINUTES = int(os.environ.get("REMINDER_QUIET_HOURS_EXEMPT_MINUTES", "120"))
CELERY_BEAT_SCHEDULE = {
    "reminders-sweep": {
        "task": "sessions.reminders_sweep",
        "schedule": float(REMINDER_SWEEP_SECONDS),
        # A sweep nobody ran in time is dropped: the next one does the same work.
        "options": {"expires": float(REMINDER_SWEEP_SECONDS)},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
# SMS: reminders.channels.FileSMSBackend (each delivery a file under REMINDER_SMS_DIR),
# ConsoleSMSBackend, or HttpSMSBackend with the provider's URL, token and sender number.
REMINDER_SMS_BACKEND = os.environ.get("REMINDER_SMS_BACKEND", "reminders.channels.FileSMSBackend")
REMINDER_SMS_DIR = Path(os.environ.get("REMINDER_SMS_DIR", BASE_DIR / "var" / "sms"))
REMINDER_SMS_HTTP_URL = os.environ.get("REMINDER_SMS_HTTP_URL", "")
REMINDER_SMS_HTTP_TOKEN = os.environ.get("REMINDER_SMS_HTTP_TOKEN", "")
REMINDER_SMS_FROM = os.environ.get("REMINDER_SMS_FROM", "")
# A directory of the clinic's own copies of the reminder templates (searched first).
REMINDER_TEMPLATES_DIR = os.environ.get("REMINDER_TEMPLATES_DIR", "")
# The domain of reminder emails' Message-IDs (<reminder-12@domain>).
REMINDER_MESSAGE_ID_DOMAIN = os.environ.get("REMINDER_MESSAGE_ID_DOMAIN", "clinic.invalid")
# Email: SMTP in production (EMAIL_HOST, ...); by default every email is a file under var/mail/.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = Path(os.environ.get("EMAIL_FILE_PATH", BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "reminders@clinic.invalid")

# What patient-facing texts say about the clinic (name, place, phone). Never a drug or diagnosis.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Riverside Wellness Clinic")
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "120 Main Street, Suite 4")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "+1 555 0100")
# The domain in calendar-feed UIDs (session-12@<domain>): set it to the clinic's own domain so
# that UIDs stay unique in a calendar that subscribes to two clinics. Never a drug's name.
CALENDAR_UID_DOMAIN = os.environ.get("CALENDAR_UID_DOMAIN", "clinic.invalid")

# Booking arithmetic: the grid on which the planner tries start times.
BOOKING_SLOT_MINUTES = int(os.environ.get("BOOKING_SLOT_MINUTES", "15"))
# How far ahead the planner looks for the next feasible first date when a course cannot fit.
PLANNING_SEARCH_DAYS = int(os.environ.get("PLANNING_SEARCH_DAYS", "42"))
# Length of an integration appointment the planner looks for when it prefers covered windows.
INTEGRATION_APPOINTMENT_MINUTES = int(os.environ.get("INTEGRATION_APPOINTMENT_MINUTES", "60"))

REST_FRAMEWORK = {
    # Token first: an anonymous API request then answers 401 with WWW-Authenticate: Token
    # (DRF takes the challenge from the first class); the browsable API still logs in by session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "ketaminecare.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "ketaminecare.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "ketaminecare.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "ketaminecare.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE_RATE", "10/min")},
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "KetamineCare API",
    "DESCRIPTION": (
        "Scheduling of treatment courses, sessions and integration windows. Every 4xx answer has "
        "one shape: {code, message, field?, rule?, details?}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar package, served by the app: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set, where several models call theirs "status" or "outcome".
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "sessions.models.TreatmentSession.Status",
        "AppointmentStatusEnum": "sessions.models.IntegrationAppointment.Status",
        "CourseStatusEnum": "courses.models.Course.Status",
        "RescheduleRequestStatusEnum": "sessions.models.RescheduleRequest.Status",
        "RescheduleOutcomeEnum": "api.courses.serializers.RESCHEDULE_OUTCOMES",
        "ScreeningOutcomeEnum": "patients.models.Screening.Outcome",
        "ContraindicationEnum": "patients.models.Contraindication",
        "WeekdayEnum": "clinic.models.Weekday",
    },
}

# The schema and its documentation: for signed-in users (the docs page sends others to sign in)
# unless API_DOCS_PUBLIC=1.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)
API_DOCS_LOGIN_URL = "/api/auth/login/"

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

# Logs: JSON lines with the request id (the default when DEBUG is off), or plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ketaminecare.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "ketaminecare.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs a request's path on 4xx/5xx; paths hold ids only, never names.
        "django.request": {"level": "WARNING"},
        # Axes writes usernames into its warnings; accounts/lockout.py logs lockouts by id.
        "axes": {"level": "ERROR"},
    },
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
