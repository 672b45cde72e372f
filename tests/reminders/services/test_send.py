"""The send: it re-checks what a reminder is about, honours opt-outs, retries a provider that fails,
and logs no patient."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from reminders.channels import DeliveryError
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from sessions.models import TreatmentSession
from sessions.services.lifecycle import session_cancel
from tests import factories
from tests.conftest import at
from tests.reminders.services.outbox_data import Status, book, delivered, sweep_and_send

pytestmark = pytest.mark.django_db


def test_opted_out_channels_get_nothing(clinic, monday, now, _sms_to_files):
    patient = factories.screened_patient(clinician=clinic.clinicians[0], sms_opted_out_at=now)
    book(clinic, patient, monday, now)
    assert not Reminder.objects.filter(patient=patient, channel=Channel.SMS).exists()
    assert Reminder.objects.filter(patient=patient, channel=Channel.EMAIL).exists()

    # Opting out of email after the booking: the rows stay, and are skipped when due.
    patient.email_opted_out_at = now
    patient.save()
    first_due = Reminder.objects.filter(patient=patient).order_by("due_at").first().due_at
    sweep_and_send(first_due)

    row = Reminder.objects.filter(patient=patient).order_by("due_at").first()
    assert row.status == Status.SKIPPED
    assert not Reminder.objects.filter(patient=patient, status=Status.SENT).exists()
    assert delivered(_sms_to_files) == {}


def test_a_session_cancelled_after_its_reminder_was_claimed_gets_no_message(
    clinic, patient, monday, now, _sms_to_files
):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at").first()
    moment = session.starts_at - dt.timedelta(hours=2)
    claimed = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    assert Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON).status == Status.CLAIMED

    session_cancel(session_id=session.pk, now=moment)
    for token, ids in claimed.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)

    assert Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON).status == Status.CANCELLED
    assert not Reminder.objects.filter(session=session, status=Status.SENT).exists()
    assert delivered(_sms_to_files) == {}


def test_the_send_rechecks_the_session_even_when_its_rows_were_left_live(clinic, patient, monday, now, _sms_to_files):
    course = book(clinic, patient, monday, now)
    session = course.sessions.order_by("starts_at").first()
    moment = session.starts_at - dt.timedelta(hours=2)
    claimed = reminders_sweep(now=moment, enqueue=lambda ids, token: None)
    # Another code path changes the session without touching its reminders.
    TreatmentSession.objects.filter(pk=session.pk).update(status=TreatmentSession.Status.NO_SHOW)

    for token, ids in claimed.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=moment)

    row = Reminder.objects.get(session=session, kind=ReminderKind.SESSION_SOON)
    assert row.status == Status.CANCELLED
    assert row.last_error == "The session is no longer scheduled."
    assert delivered(_sms_to_files) == {}


class FlakySMSBackend:
    """A provider that is down."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        raise DeliveryError("provider answered 503")


def test_a_failing_send_retries_with_backoff_then_ends_failed(clinic, patient, monday, now, settings):
    settings.REMINDER_SMS_BACKEND = "tests.reminders.services.test_send.FlakySMSBackend"
    settings.REMINDER_MAX_ATTEMPTS = 3
    settings.REMINDER_RETRY_BASE_SECONDS = 60
    book(clinic, patient, monday, now)
    row = Reminder.objects.filter(channel=Channel.SMS).order_by("due_at", "id").first()
    moment = row.due_at

    sweep_and_send(moment)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.due_at) == (Status.PENDING, 1, moment + dt.timedelta(seconds=60))
    sweep_and_send(row.due_at)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.due_at) == (Status.PENDING, 2, moment + dt.timedelta(seconds=60 + 120))
    sweep_and_send(row.due_at)
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.attempts == 3
    assert "503" in row.last_error


def test_logs_name_no_patient(clinic, patient, monday, now, caplog):
    book(clinic, patient, monday, now)
    with caplog.at_level(logging.DEBUG):
        sweep_and_send(at(monday + dt.timedelta(days=2), 7))
    assert Reminder.objects.filter(status=Status.SENT).exists()
    text = caplog.text
    for secret in (patient.first_name, patient.last_name, patient.phone, patient.email):
        assert secret not in text
