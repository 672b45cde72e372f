"""What a patient's SMS reply does: confirm, ask for a change, opt out or in, or reach the front desk.

A reply answers the latest SMS the clinic sent to that number about a session or a follow-up
appointment. Keywords are read trimmed and in any case:

- ``C`` or ``YES`` confirms that visit (``confirmed_at``: the API and the calendar show it);
- ``R`` opens a reschedule request for the front desk (through the sessions' own service, which
  writes the front desk's notice); a follow-up appointment has no such request, so it goes to
  the inbox;
- the carriers' opt-out words (``OPT_OUT_WORDS``) opt every patient with that number out of SMS
  at once, and ``START`` opts them back in: the carrier has already cut or restored the line and
  sent its own confirmation, so the clinic sends nothing;
- anything else, and a keyword that cannot be acted on, waits in the front desk's inbox.

No reply is ever sent: a clinic that wants to answer calls or writes from the inbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaminecare.errors import DomainError, InvalidTransition
from ketaminecare.rules import Rule
from patients.models import Patient
from patients.services import patient_preferences_update
from reminders import inbound
from reminders.models import Channel, InboundMessage, Reminder
from sessions.services.confirmations import appointment_attendance_confirm, session_attendance_confirm
from sessions.services.requests import reschedule_request_create

Action = InboundMessage.Action

# What US carriers act on themselves (CTIA): never ask a patient to reply with one of these.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START"})
CONFIRM_WORDS = frozenset({"C", "YES"})
CHANGE_WORDS = frozenset({"R"})

NOTE_NO_VISIT = "No SMS about a visit was sent to this number: nothing to confirm or change."
NOTE_NO_PATIENT = "No patient has this number."
NOTE_APPOINTMENT_CHANGE = "The patient asks to change a follow-up appointment."
NOTE_BY_SMS = "Asked by SMS reply."
MSG_ALREADY_HANDLED = "The message was already handled."


def keyword_of(body: str) -> str:
    """The reply as a keyword: trimmed, upper case (``" yes "`` is ``"YES"``)."""
    return body.strip().upper()


def answered_reminder(from_number: str) -> Reminder | None:
    """The latest SMS sent to ``from_number`` about a session or a follow-up appointment."""
    return (
        Reminder.objects.filter(
            channel=Channel.SMS, status=Reminder.Status.SENT, patient__phone=from_number, patient__isnull=False
        )
        .exclude(session__isnull=True, appointment__isnull=True)
        .select_related("patient")
        .order_by("-sent_at", "-id")
        .first()
    )


def inbound_message_receive(
    *, message: inbound.InboundMessage, now: dt.datetime | None = None
) -> tuple[InboundMessage, bool]:
    """Record one inbound SMS and act on it; ``(row, False)`` for a message already received.

    A replayed provider id does nothing at all (the unique ``provider_id`` is the guard, also
    between two deliveries racing). The row, the keyword's effect (a confirmation, a request and
    its front-desk notice, an opt-out) are one transaction.
    """
    now = now or timezone.now()
    existing = InboundMessage.objects.filter(provider_id=message.provider_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row = _record(message, now=now)
    except IntegrityError:
        # The same message delivered twice at once: the other delivery recorded it.
        return InboundMessage.objects.get(provider_id=message.provider_id), False
    return row, True


def _record(message: inbound.InboundMessage, *, now: dt.datetime) -> InboundMessage:
    answered = answered_reminder(message.from_number)
    patient = answered.patient if answered else Patient.objects.filter(phone=message.from_number).first()
    row = InboundMessage(
        provider_id=message.provider_id,
        from_number=message.from_number,
        body=message.body,
        received_at=message.received_at,
        patient=patient,
        in_reply_to=answered,
        action=Action.INBOX,
    )
    word = keyword_of(message.body)
    if word in OPT_OUT_WORDS | OPT_IN_WORDS:
        _opt(row, opted_out=word in OPT_OUT_WORDS, now=now)
    elif word in CONFIRM_WORDS | CHANGE_WORDS:
        _answer(row, answered, change=word in CHANGE_WORDS, now=now)
    if row.action != Action.INBOX:
        row.status = InboundMessage.Status.HANDLED
        row.handled_at = now
    row.save()
    return row


def _opt(row: InboundMessage, *, opted_out: bool, now: dt.datetime) -> None:
    """Opt every patient with the number out of SMS (or back in): the carrier acts on the number."""
    row.action = Action.OPTED_OUT if opted_out else Action.OPTED_IN
    ids = list(Patient.objects.filter(phone=row.from_number).values_list("pk", flat=True))
    for patient_id in ids:
        patient_preferences_update(patient_id=patient_id, sms_opted_out=opted_out, now=now)
    if not ids:
        row.note = NOTE_NO_PATIENT


def _answer(row: InboundMessage, answered: Reminder | None, *, change: bool, now: dt.datetime) -> None:
    """Confirm the visit the reply answers, or ask to change it; left for the inbox when it cannot."""
    if answered is None:
        row.note = NOTE_NO_VISIT if row.patient else NOTE_NO_PATIENT
        return
    try:
        with transaction.atomic():
            row.action = _act_on_visit(answered, change=change, now=now)
    except DomainError as exc:
        row.action = Action.INBOX
        row.note = exc.message[:300]
        return
    if row.action == Action.INBOX:
        row.note = NOTE_APPOINTMENT_CHANGE


def _act_on_visit(answered: Reminder, *, change: bool, now: dt.datetime) -> Any:
    patient_id = answered.patient_id
    assert patient_id is not None  # answered_reminder keeps patients' messages only
    if answered.session_id is not None:
        if change:
            reschedule_request_create(
                patient_id=patient_id, session_id=answered.session_id, message=NOTE_BY_SMS, now=now
            )
            return Action.CHANGE_REQUESTED
        session_attendance_confirm(session_id=answered.session_id, now=now)
        return Action.CONFIRMED
    assert answered.appointment_id is not None
    if change:
        return Action.INBOX
    appointment_attendance_confirm(appointment_id=answered.appointment_id, now=now)
    return Action.CONFIRMED


def inbound_message_handle(*, message_id: int, actor: Any, now: dt.datetime | None = None) -> InboundMessage:
    """The front desk marks an inbox message handled (they called back, moved the visit, ...)."""
    with transaction.atomic():
        row = InboundMessage.objects.select_for_update().get(pk=message_id)
        if row.status != InboundMessage.Status.NEW:
            raise InvalidTransition(MSG_ALREADY_HANDLED, field="status", rule=Rule.HANDLE_FROM_OPEN)
        row.status = InboundMessage.Status.HANDLED
        row.handled_by = actor
        row.handled_at = now or timezone.now()
        row.save(update_fields=["status", "handled_by", "handled_at"])
    return row
