"""The naive design, for the reminder benchmark only: one Celery task per reminder.

The worker loads it with ``--include bench.naive_tasks``. Each task claims its one row with a
conditional update and sends it through the same code as a batch (a batch of one), so the two
designs differ only in how work reaches the worker: one message and one transaction per reminder.
"""

from __future__ import annotations

import datetime as dt
import uuid

from celery import shared_task
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from reminders.models import Reminder
from reminders.services.send import reminders_send_batch


@shared_task(name="bench.naive_send_one")
def naive_send_one(reminder_id: int) -> None:
    now = timezone.now()
    token = str(uuid.uuid4())
    claimed = Reminder.objects.filter(pk=reminder_id, status=Reminder.Status.PENDING, due_at__lte=now).update(
        status=Reminder.Status.CLAIMED,
        claim_token=token,
        claimed_at=now,
        lease_until=now + dt.timedelta(seconds=settings.REMINDER_LEASE_SECONDS),
        attempts=F("attempts") + 1,
    )
    if claimed:
        reminders_send_batch(reminder_ids=[reminder_id], claim_token=token, now=now)
