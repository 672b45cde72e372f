"""Structured logs: one JSON object per line, each carrying the request id.

What a log line may hold is decided where it is written: the service logs ids and rule names,
never a patient's name, phone, email or a clinical field. The formatter below only adds the
request id and the standard fields; it copies ``extra`` values only for allowed keys, so a stray
``extra={"patient": patient}`` cannot leak a name into the logs.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from ketaminecare.client import client_address

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# The trusted client address of the request being served (ketaminecare/client.py), or "-".
client_var: contextvars.ContextVar[str] = contextvars.ContextVar("client", default="-")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# A calendar feed's URL is its credential (/api/v1/feeds/<token>.ics).
_FEED_TOKEN = re.compile(r"(/feeds/)[^/\s]+(\.ics)")


def mask_path(text: str) -> str:
    """``text`` with calendar-feed tokens in URL paths replaced by ``***``."""
    return _FEED_TOKEN.sub(r"\1***\2", text)


# Keys a log call may add with ``extra=``: identifiers and measures, never personal data.
ALLOWED_EXTRA = frozenset(
    {
        "event",
        "method",
        "path",
        "status",
        "duration_ms",
        "user_id",
        "role",
        "session_id",
        "course_id",
        "patient_id",
        "window_id",
        "appointment_id",
        "reminder_id",
        "task_id",
        "count",
        "rule",
    }
)


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy when well-formed (else makes one) and echoes it back;
    notes the trusted client address for the log lines of the request.

    The id stays set until the answer is finished (``request_finished``), not just until this
    middleware returns: Django logs a 4xx or 5xx answer (django.request) after the middleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(request_id)
        client_var.set(client_address(request) or "-")
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _forget_request_id(**kwargs: Any) -> None:
    request_id_var.set("-")
    client_var.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="ketaminecare.logging.forget_request_id")


class RequestIdFilter(logging.Filter):
    """Adds the request id, and masks feed tokens (Django logs the path of a 404 or a 500)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        message = record.getMessage()
        masked = mask_path(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def _connection_error(exc: BaseException | None) -> BaseException | None:
    """The connection error in ``exc``'s chain (the broker or a socket refused), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError | kombu.exceptions.OperationalError | redis.exceptions.ConnectionError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class BrokerOutageFilter(logging.Filter):
    """Beat's "could not send a scheduled task" while the broker is down, as one line.

    Celery logs each failed tick with the whole call stack and a chain of tracebacks (about 150
    lines a tick); an operator needs to read that the broker is unreachable, and when beat tries
    again. Any other error keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        cause = _connection_error(record.exc_info[1] if record.exc_info else None)
        if cause is not None:
            record.msg = (
                "beat could not send a scheduled task: the broker is unreachable (%s: %s); "
                "it tries again at the next tick"
            )
            record.args = (type(cause).__name__, cause)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.event = "beat_broker_unreachable"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "client": client_var.get(),
        }
        for key in ALLOWED_EXTRA:
            if key in record.__dict__:
                body[key] = record.__dict__[key]
        if record.exc_info:
            # The exception's type and traceback, not its message: messages can carry values.
            body["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            body["traceback"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)
