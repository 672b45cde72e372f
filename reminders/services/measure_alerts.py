"""Telling the patient's clinicians of a measure alert (an answer that calls for them), at once.

Written by the receiver of ``measures.signals.alert_raised``, inside the transaction that raises
the alert: one outbox row per clinician and channel, due now, which the sweep claims and sends as
any other. Who the clinicians are is the measures app's decision (``alert_recipients``); the
channels are the ``MEASURES_ALERT_CHANNELS`` setting. Quiet hours are the patients' and do not
hold back a staff alert. Once a clinician acknowledges the alert, the rows not yet sent are
cancelled (and a send re-checks the alert in any case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings

from clinic.models import StaffMember
from measures.models import MeasureAlert
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.outbox import cancel_live

REASON_ACKNOWLEDGED = "The alert was acknowledged."


def reminders_alert_raised(alert: MeasureAlert, *, recipient_ids: Sequence[int], now: dt.datetime) -> list[Reminder]:
    """The outbox rows telling each recipient of ``alert`` on each configured channel, due ``now``."""
    channels = [c for c in settings.MEASURES_ALERT_CHANNELS if c in Channel.values]
    staff = StaffMember.objects.filter(pk__in=list(recipient_ids), is_active=True).order_by("pk")
    rows = [
        Reminder(
            kind=ReminderKind.MEASURE_ALERT,
            channel=channel,
            staff=member,
            alert=alert,
            anchor_at=alert.raised_at,
            planned_at=now,
            due_at=now,
        )
        for member in staff
        for channel in channels
    ]
    return Reminder.objects.bulk_create(rows)


def reminders_alert_acknowledged(alert_id: int, *, now: dt.datetime) -> int:
    """Cancel the alert's messages not yet sent: a clinician has it in hand."""
    return cancel_live(now=now, reason=REASON_ACKNOWLEDGED, alert_id=alert_id)
