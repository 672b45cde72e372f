"""A measure alert's messages to the patient's clinicians: written at once, sent by the sweep as
any staff alert, naming the patient as staff alerts do (initials and record number), and never
sent once a clinician has acknowledged the alert."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaminecare.access.privacy import forbidden_words
from measures.services import measure_alert_acknowledge, measure_record
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from tests.measures.conftest import PHQ9_ITEM9
from tests.reminders.services.outbox_data import Status, book, delivered, sweep_and_send

pytestmark = pytest.mark.django_db


def test_an_item_9_alert_reaches_the_course_clinicians_by_sms_and_email_at_once(
    clinic, patient, monday, now, mailoutbox, _sms_to_files
):
    course = book(clinic, patient, monday, now)
    clinicians = {s.clinician for s in course.sessions.select_related("clinician__user")}
    for member in clinicians:
        member.phone = f"+1555010{member.pk:04d}"
        member.save()
    alert = measure_record(patient=patient, instrument="phq9", answers=PHQ9_ITEM9, entered_by=None, now=now).alert

    sweep_and_send(now)

    rows = Reminder.objects.filter(alert=alert, kind=ReminderKind.MEASURE_ALERT)
    assert {(r.staff_id, r.channel, r.status) for r in rows} == {
        (m.pk, channel, Status.SENT) for m in clinicians for channel in (Channel.SMS, Channel.EMAIL)
    }
    ref = f"{patient.first_name[:1]}{patient.last_name[:1]}-{patient.pk}"
    emails = [m for m in mailoutbox if ref in m.subject]
    assert sorted(m.to[0] for m in emails) == sorted(m.user.email for m in clinicians)
    # The alert's own texts: the booking's change notice to the patient went by SMS too.
    alert_texts = {f"reminder-{r.pk}" for r in rows if r.channel == Channel.SMS}
    sms = [d["body"] for key, d in delivered(_sms_to_files).items() if key in alert_texts]
    texts = [m.subject + m.body for m in emails] + sms
    assert len(texts) == 2 * len(clinicians)
    for text in texts:
        assert ref in text
        assert patient.first_name not in text and patient.last_name not in text
        assert forbidden_words(text) == []


def test_an_alert_acknowledged_before_its_messages_went_sends_nothing(clinic, patient, now, mailoutbox):
    alert = measure_record(patient=patient, instrument="phq9", answers=PHQ9_ITEM9, entered_by=None, now=now).alert
    assert alert is not None
    claim = reminders_sweep(now=now, enqueue=lambda ids, token: None)  # claimed, not yet sent
    measure_alert_acknowledge(alert_id=alert.pk, actor=clinic.clinicians[0].user, now=now)

    for token, ids in claim.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=now + dt.timedelta(seconds=5))

    statuses = set(Reminder.objects.filter(alert=alert).values_list("status", "last_error"))
    assert statuses == {(Status.CANCELLED, "The alert was acknowledged.")}
    assert mailoutbox == []


def test_a_claimed_message_whose_alert_was_closed_meanwhile_is_cancelled_at_send(clinic, patient, now, mailoutbox):
    alert = measure_record(patient=patient, instrument="phq9", answers=PHQ9_ITEM9, entered_by=None, now=now).alert
    assert alert is not None
    claim = reminders_sweep(now=now, enqueue=lambda ids, token: None)
    # Closed by another path than the service (no signal): the send re-checks the alert itself.
    type(alert).objects.filter(pk=alert.pk).update(acknowledged_at=now, acknowledged_by=clinic.clinicians[0].user)

    for token, ids in claim.batches:
        reminders_send_batch(reminder_ids=ids, claim_token=token, now=now)

    assert set(Reminder.objects.filter(alert=alert).values_list("status", flat=True)) == {Status.CANCELLED}
    assert mailoutbox == []
