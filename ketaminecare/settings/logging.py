"""Logs: JSON lines or plain text, each with the request id."""

import os

from ketaminecare.settings.security import DEBUG

# Logs: JSON lines with the request id (the default when DEBUG is off), or plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "ketaminecare.logging.RequestIdFilter"},
        "broker_outage": {"()": "ketaminecare.logging.BrokerOutageFilter"},
    },
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
        # Beat's failed ticks while the broker is down: one line each, not a traceback chain.
        "celery.beat": {"filters": ["broker_outage"]},
    },
}
