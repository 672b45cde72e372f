"""What the provider says became of a sent SMS, and the one fallback to email when it did not arrive.

The status callback names the message by the provider's id (``provider_message_id``, recorded when
the message was sent). ``delivered`` is recorded; ``undelivered`` or ``failed`` is recorded, shown
to the front desk (the reminders' follow-up list and the admin's filter), and a patient's message
falls back once to email when the patient allows email: a new outbox row of the same kind and
subject, due now, that the sweep sends like any other (its subject re-checked, quiet hours kept).
The email row points at the SMS it stands in for (``fallback_for``, one to one): a second
callback cannot write a second email, and an email never falls back.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from reminders.models import DELIVERY_PROBLEMS, Channel, Reminder


def delivery_status_record(
    *, provider_message_id: str, status: str | None, now: dt.datetime | None = None
) -> Reminder | None:
    """Record a status callback; None when no SMS of ours has that id (another system's message)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(channel=Channel.SMS, provider_message_id=provider_message_id)
            .first()
        )
        if row is None or status is None:
            return row
        row.delivery_status = status
        row.delivery_updated_at = now
        row.save(update_fields=["delivery_status", "delivery_updated_at"])
        if status in DELIVERY_PROBLEMS:
            _fall_back_to_email(row, now=now)
    return row


def _fall_back_to_email(row: Reminder, *, now: dt.datetime) -> Reminder | None:
    patient = row.patient
    if patient is None or not patient.channel_allowed(Channel.EMAIL):
        return None
    if Reminder.objects.filter(fallback_for=row).exists():
        return None
    # The email of the same message may be waiting already (a rule on both channels): it goes.
    live = Reminder.objects.filter(
        kind=row.kind,
        channel=Channel.EMAIL,
        patient=patient,
        session=row.session_id,
        appointment=row.appointment_id,
        course=row.course_id,
        status__in=Reminder.LIVE_STATUSES,
    )
    if live.exists():
        return None
    return Reminder.objects.create(
        kind=row.kind,
        channel=Channel.EMAIL,
        patient=patient,
        session_id=row.session_id,
        appointment_id=row.appointment_id,
        window_id=row.window_id,
        course_id=row.course_id,
        alert_id=row.alert_id,
        anchor_at=row.anchor_at,
        subject_revision=row.subject_revision,
        planned_at=now,
        due_at=now,
        fallback_for=row,
    )
