"""The provider's status callbacks: delivery recorded, and an undelivered SMS's one fallback to email."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from reminders.models import Channel, DeliveryStatus, Reminder, ReminderKind
from reminders.selectors import follow_up_q
from reminders.services.delivery import delivery_status_record
from tests.reminders.services.outbox_data import book, sweep_and_send
from tests.reminders.services.sms_data import mark_sent, sms_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def soon(clinic, patient, monday, now):
    """The SMS-only 'starting soon' reminder of the second session, sent."""
    session = book(clinic, patient, monday, now).sessions.get(sequence=2)
    row = sms_of(ReminderKind.SESSION_SOON, session=session)
    return mark_sent(row, at=row.due_at, message_id="SM-soon")


def test_delivered_is_recorded_and_nothing_else_happens(soon):
    at = soon.sent_at + dt.timedelta(seconds=5)

    row = delivery_status_record(provider_message_id="SM-soon", status=DeliveryStatus.DELIVERED, now=at)

    assert (row.delivery_status, row.delivery_updated_at) == (DeliveryStatus.DELIVERED, at)
    assert not Reminder.objects.filter(fallback_for=soon).exists()


@pytest.mark.parametrize("status", [DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED])
def test_an_undelivered_sms_falls_back_once_to_email_and_it_is_sent(soon, status):
    at = soon.sent_at + dt.timedelta(seconds=30)

    delivery_status_record(provider_message_id="SM-soon", status=status, now=at)
    # The provider calls again (a retry, a later state): no second email.
    delivery_status_record(provider_message_id="SM-soon", status=DeliveryStatus.FAILED, now=at)

    fallback = Reminder.objects.get(fallback_for=soon)
    assert (fallback.kind, fallback.channel, fallback.session, fallback.patient, fallback.due_at) == (
        ReminderKind.SESSION_SOON,
        Channel.EMAIL,
        soon.session,
        soon.patient,
        at,
    )
    sweep_and_send(at)
    fallback.refresh_from_db()
    assert fallback.status == Reminder.Status.SENT
    sent = [m for m in mail.outbox if m.extra_headers["X-Idempotency-Key"] == f"reminder-{fallback.pk}"]
    assert [m.to for m in sent] == [[soon.patient.email]]
    assert Reminder.objects.filter(fallback_for__isnull=False).count() == 1


def test_a_fallback_never_falls_back(soon):
    at = soon.sent_at + dt.timedelta(seconds=30)
    delivery_status_record(provider_message_id="SM-soon", status=DeliveryStatus.UNDELIVERED, now=at)
    fallback = mark_sent(Reminder.objects.get(fallback_for=soon), at=at, message_id="<email-1>")

    # An email's id never matches an SMS status callback; nor does it make another row.
    assert delivery_status_record(provider_message_id="<email-1>", status=DeliveryStatus.FAILED, now=at) is None
    assert not Reminder.objects.filter(fallback_for=fallback).exists()


def test_no_fallback_when_the_patient_does_not_allow_email(soon):
    soon.patient.email_opted_out_at = soon.sent_at
    soon.patient.save(update_fields=["email_opted_out_at"])

    row = delivery_status_record(provider_message_id="SM-soon", status=DeliveryStatus.UNDELIVERED, now=soon.sent_at)

    assert row.delivery_status == DeliveryStatus.UNDELIVERED
    assert not Reminder.objects.filter(fallback_for=soon).exists()


def test_an_unknown_message_id_changes_nothing(soon):
    assert delivery_status_record(provider_message_id="SM-other", status=DeliveryStatus.FAILED) is None
    assert Reminder.objects.get(pk=soon.pk).delivery_status == ""


def test_the_front_desk_follow_up_holds_failed_and_undelivered_messages(soon, now):
    other = mark_sent(
        sms_of(ReminderKind.SESSION_PREPARE, session=soon.session), at=soon.sent_at, message_id="SM-prepare"
    )
    delivery_status_record(provider_message_id="SM-soon", status=DeliveryStatus.UNDELIVERED, now=now)
    delivery_status_record(provider_message_id="SM-prepare", status=DeliveryStatus.DELIVERED, now=now)
    Reminder.objects.filter(kind=ReminderKind.SESSION_CONFIRM, channel=Channel.SMS, session=soon.session).update(
        status=Reminder.Status.FAILED, last_error="provider answered 400"
    )

    follow_up = set(Reminder.objects.filter(follow_up_q()).values_list("kind", flat=True))

    assert follow_up == {ReminderKind.SESSION_SOON, ReminderKind.SESSION_CONFIRM}
    assert other.pk not in set(Reminder.objects.filter(follow_up_q()).values_list("pk", flat=True))
