"""The live change notices of one subject, and their replacement (reminders.services.notices)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from reminders.models import Reminder
from reminders.services.outbox import cancel_rows

REASON_REPLACED = "A later change replaced it: a notice with the final state was written instead."


def live_notices(kinds: Sequence[str], **where: Any) -> dict[str, Reminder]:
    """The live notices of ``kinds`` about one subject and recipient, by channel, locked."""
    rows = Reminder.objects.select_for_update(of=("self",)).filter(
        **where, kind__in=list(kinds), status__in=Reminder.LIVE_STATUSES
    )
    return {row.channel: row for row in rows}


def replace_notices(*, cancelled: list[Reminder], reason: str, new: list[Reminder], now: dt.datetime) -> None:
    """Cancel first (the live-notice constraints hold after every statement), then write."""
    cancel_rows(cancelled, now=now, reason=reason)
    if new:
        Reminder.objects.bulk_create(new)
