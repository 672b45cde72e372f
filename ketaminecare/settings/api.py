"""The REST API: Django REST framework, and the OpenAPI schema and its documentation pages."""

import os

from ketaminecare.settings.environment import env_bool

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
