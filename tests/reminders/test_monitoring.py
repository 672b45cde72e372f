"""What an operator sees of the outbox: /health/'s lag and "degraded", and /metrics/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reminders.models import Reminder
from reminders.monitoring import outbox_figures
from tests.reminders.reminder_data import due_session_reminders

pytestmark = pytest.mark.django_db

Status = Reminder.Status


def test_health_reports_the_outbox_lag_and_turns_degraded_past_the_threshold(client, settings):
    settings.REMINDER_LAG_DEGRADED_SECONDS = 600
    due_session_reminders(2, now=timezone.now())  # due a minute ago

    fresh = client.get("/health/").json()
    assert fresh["status"] == "ok"
    assert fresh["checks"]["reminders"]["due"] == 2
    assert 55 <= fresh["checks"]["reminders"]["lag_seconds"] < 600

    due_session_reminders(1, now=timezone.now() - dt.timedelta(hours=1), label="late")
    late = client.get("/health/")
    body = late.json()
    assert late.status_code == 200  # the web process serves; the outbox lags
    assert body["status"] == "degraded"
    assert body["degraded"] == ["reminders"]
    assert body["checks"]["reminders"]["due"] == 3
    assert body["checks"]["reminders"]["lag_seconds"] >= 3600


def test_the_figures_count_due_claimed_expired_sent_failed_and_reclaims():
    now = timezone.now()
    ids = due_session_reminders(5, now=now)
    Reminder.objects.filter(pk=ids[0]).update(status=Status.SENT, sent_at=now, provider_message_id="m-1")
    Reminder.objects.filter(pk=ids[1]).update(status=Status.FAILED)
    Reminder.objects.filter(pk=ids[2]).update(
        status=Status.CLAIMED,
        claim_token="6f1c1f7e-1111-4c4c-9999-000000000000",
        lease_until=now - dt.timedelta(seconds=5),
        lease_expiries=2,
    )

    figures = outbox_figures(now)

    assert (figures.due, figures.claimed, figures.lease_expired) == (3, 1, 1)
    assert (figures.sent, figures.failed, figures.reclaims) == (1, 1, 2)
    assert figures.lag_seconds == pytest.approx(60, abs=1)


def test_metrics_answer_only_the_scraper_with_the_token(client, settings):
    due_session_reminders(1, now=timezone.now())
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics/").status_code == 404

    settings.METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics/").status_code == 401
    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics/", HTTP_AUTHORIZATION="Bearer scrape-secret-123")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line[:1] != "#"}
    assert lines["ketaminecare_reminders_due"] == 1
    assert lines["ketaminecare_reminders_sent_total"] == 0
    assert lines["ketaminecare_reminder_reclaims_total"] == 0
    assert 55 <= lines["ketaminecare_reminder_outbox_lag_seconds"] < 120
    assert "Sender" not in text and "+1666" not in text  # counts, never a patient
