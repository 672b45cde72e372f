"""Celery and its broker, the reminder sweep, SMS and email."""

import os
from pathlib import Path

from ketaminecare.settings.base import REDIS_URL
from ketaminecare.settings.environment import BASE_DIR, env_bool

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
# killed (its unsent rows come back when their lease runs out).
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "100"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "120"))
# One message at a time per process: a killed worker holds back as little as possible.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Reminders (reminders/services/sweep.py). The sweep runs every REMINDER_SWEEP_SECONDS from the
# one beat process; it claims due rows in batches, each with a lease.
REMINDER_SWEEP_SECONDS = int(os.environ.get("REMINDER_SWEEP_SECONDS", "60"))
REMINDER_BATCH_SIZE = int(os.environ.get("REMINDER_BATCH_SIZE", "100"))
REMINDER_SWEEP_LIMIT = int(os.environ.get("REMINDER_SWEEP_LIMIT", "20000"))
# How long one call to a provider (SMTP, the SMS API) may take before it counts as failed.
REMINDER_SEND_TIMEOUT_SECONDS = int(os.environ.get("REMINDER_SEND_TIMEOUT_SECONDS", "10"))
# A claimed batch's lease. Its worker renews it between messages, every third of it, so it only
# has to outlive one provider call: a batch whose worker died is claimed again soon after.
REMINDER_LEASE_SECONDS = int(os.environ.get("REMINDER_LEASE_SECONDS", "30"))
if REMINDER_LEASE_SECONDS < 3 * REMINDER_SEND_TIMEOUT_SECONDS:
    raise RuntimeError("REMINDER_LEASE_SECONDS must be at least 3 x REMINDER_SEND_TIMEOUT_SECONDS")
# /health/ reports "degraded" when the oldest due, unsent reminder has waited longer than this.
REMINDER_LAG_DEGRADED_SECONDS = int(os.environ.get("REMINDER_LAG_DEGRADED_SECONDS", "300"))
REMINDER_MAX_ATTEMPTS = int(os.environ.get("REMINDER_MAX_ATTEMPTS", "5"))
REMINDER_RETRY_BASE_SECONDS = int(os.environ.get("REMINDER_RETRY_BASE_SECONDS", "60"))
REMINDER_RETRY_MAX_SECONDS = int(os.environ.get("REMINDER_RETRY_MAX_SECONDS", "3600"))
# A reminder whose moment had passed when it was planned (a late booking, a move) is skipped when a
# later one of the plan still falls due on its channel; when none does, the latest passed one goes
# at once. Off: every passed moment is skipped, and a course booked late gets no reminder at all.
REMINDER_SEND_LATEST_PASSED = env_bool("REMINDER_SEND_LATEST_PASSED", True)
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
EMAIL_TIMEOUT = REMINDER_SEND_TIMEOUT_SECONDS
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "reminders@clinic.invalid")
# /metrics/ (Prometheus text format) answers only a scraper that sends this bearer token; unset,
# the route answers 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# Two-way SMS (docs/sms.md): the provider's webhooks /api/v1/sms/inbound/ and /api/v1/sms/status/
# check the provider's signature with this secret (Twilio: the account's auth token). Unset, both
# routes answer 404: nothing is open by default.
SMS_WEBHOOK_SECRET = os.environ.get("SMS_WEBHOOK_SECRET", "")
SMS_INBOUND_ADAPTER = os.environ.get("SMS_INBOUND_ADAPTER", "reminders.inbound.TwilioAdapter")
# The public URL the provider calls, when the service sits behind a proxy that changes the scheme
# or host (the signature covers the URL the provider used): e.g. https://clinic.example.org.
SMS_WEBHOOK_BASE_URL = os.environ.get("SMS_WEBHOOK_BASE_URL", "")
