"""What the SMS reply and delivery tests share: a booked course and an SMS recorded as sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reminders import inbound
from reminders.models import Channel, Reminder, ReminderKind


def mark_sent(row: Reminder, *, at: dt.datetime, message_id: str) -> Reminder:
    """Record ``row`` as the send does when the provider accepts it."""
    row.status = Reminder.Status.SENT
    row.sent_at = at
    row.provider_message_id = message_id
    row.save(update_fields=["status", "sent_at", "provider_message_id"])
    return row


def sms_of(kind: str, **subject: Any) -> Reminder:
    return Reminder.objects.get(kind=kind, channel=Channel.SMS, **subject)


def sent_confirm(session: Any, *, at: dt.datetime, message_id: str = "SM-confirm") -> Reminder:
    """The session's confirm-and-ride reminder, sent at ``at``."""
    return mark_sent(sms_of(ReminderKind.SESSION_CONFIRM, session=session), at=at, message_id=message_id)


def reply(body: str, *, from_number: str, provider_id: str = "SM-in-1", at: dt.datetime) -> inbound.InboundMessage:
    return inbound.InboundMessage(provider_id=provider_id, from_number=from_number, body=body, received_at=at)
