import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from ketaminecare.logging import JsonFormatter, RequestIdFilter, RequestIdMiddleware, client_var, request_id_var


@pytest.mark.django_db
def test_health_reports_database_and_broker_up(client, settings):
    # The suite runs with the real Redis as REDIS_URL (bin/test sets it).
    assert settings.REDIS_URL, "the tests need REDIS_URL pointing at the real Redis"
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_health_answers_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_keeps_a_well_formed_one(client):
    generated = client.get("/health/")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health/", HTTP_X_REQUEST_ID="proxy-abc-12345")["X-Request-ID"] == "proxy-abc-12345"
    assert client.get("/health/", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"] != "bad id\nwith newline"


def test_json_log_lines_carry_the_request_id_and_only_allowed_extras():
    record = logging.LogRecord("kc", logging.INFO, __file__, 1, "booked", None, None)
    record.session_id = 12
    record.patient_name = "Jordan Avery"
    token = request_id_var.set("req-123456789")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "req-123456789"
    assert line["session_id"] == 12
    assert "patient_name" not in line
    assert "Jordan" not in json.dumps(line)


def test_access_log_masks_calendar_feed_tokens():
    from ketaminecare.logging import mask_path

    assert mask_path("/api/v1/feeds/abcDEF123_-secret.ics") == "/api/v1/feeds/***.ics"
    assert mask_path("GET /api/v1/feeds/abc.ics HTTP/1.1") == "GET /api/v1/feeds/***.ics HTTP/1.1"
    assert mask_path("/api/v1/feeds/") == "/api/v1/feeds/"


def test_log_filter_masks_feed_tokens_in_django_request_messages():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/api/v1/feeds/s3cr3t.ics",), None
    )
    RequestIdFilter().filter(record)
    assert record.getMessage() == "Not Found: /api/v1/feeds/***.ics"


@pytest.mark.django_db
def test_django_request_log_line_of_an_api_refusal_carries_the_request_id(client):
    # Django logs a 4xx or 5xx answer after the middleware has returned it: the id must outlive it.
    seen: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(request_id_var.get())

    logger = logging.getLogger("django.request")
    handler = Capture(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        response = client.get("/api/v1/auth/me/", HTTP_X_REQUEST_ID="proxy-refused-123")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 401
    assert seen == ["proxy-refused-123"]
    assert request_id_var.get() == "-"  # forgotten once the answer is finished


def test_log_lines_carry_the_trusted_client_address_not_the_header_as_sent(settings):
    seen = []

    def view(request):
        seen.append(client_var.get())
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    RequestIdMiddleware(view)(request)
    settings.TRUSTED_PROXY_COUNT = 1
    RequestIdMiddleware(view)(request)
    assert seen == ["10.0.0.7", "203.0.113.9"]

    record = logging.LogRecord("kc", logging.INFO, __file__, 1, "x", None, None)
    token = client_var.set("203.0.113.9")
    try:
        assert json.loads(JsonFormatter().format(record))["client"] == "203.0.113.9"
    finally:
        client_var.reset(token)
