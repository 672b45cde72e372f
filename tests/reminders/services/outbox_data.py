"""What the outbox tests share: booking a course, sweeping and sending in this process, the plan
expected and the rows written.

The sweep and the send run in this process here; tests/reminders/test_reminder_worker.py runs them
through a real Celery worker and Redis.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from courses.models import Course
from reminders.models import PLANNED_KINDS, Reminder, ReminderKind
from reminders.services.plan import DEFAULT_REMINDER_PLAN
from reminders.services.send import reminders_send_batch
from reminders.services.sweep import reminders_sweep
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book
from tests import factories

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
Status = Reminder.Status


def delivered(sms_dir: Path) -> dict[str, dict[str, str]]:
    folder = sms_dir / "delivered"
    if not folder.exists():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("reminder-*.json")}


def book(clinic: factories.Clinic, patient: Any, monday: dt.date, now: dt.datetime) -> Course:
    return course_plan_and_book(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )


def sweep_and_send(now: dt.datetime) -> list[Any]:
    """One sweep, then every batch it claimed sent, as a worker would (in this process)."""
    result = reminders_sweep(now=now, enqueue=lambda ids, token: None)
    return [reminders_send_batch(reminder_ids=ids, claim_token=token, now=now) for token, ids in result.batches]


def expected_plan(course: Course, now: dt.datetime) -> set[tuple[Any, ...]]:
    """What the default plan calls for: every line whose planned time is still ahead."""
    wanted = set()
    sessions = list(course.sessions.all())
    for session in sessions:
        for line in DEFAULT_REMINDER_PLAN:
            if line.kind in (ReminderKind.SESSION_CONFIRM, ReminderKind.SESSION_PREPARE, ReminderKind.SESSION_SOON):
                planned = session.starts_at - dt.timedelta(minutes=line.minutes_before)
                if planned > now:
                    wanted |= {(session.pk, None, line.kind, channel, planned) for channel in line.channels}
    last = max(s.starts_at for s in sessions).astimezone(NEW_YORK)
    due = dt.datetime.combine(last.date() + dt.timedelta(days=21), last.time(), tzinfo=NEW_YORK)
    (line,) = [li for li in DEFAULT_REMINDER_PLAN if li.kind == ReminderKind.MAINTENANCE_DUE]
    planned = due - dt.timedelta(minutes=line.minutes_before)
    wanted |= {(None, course.pk, line.kind, channel, planned) for channel in line.channels}
    return wanted


def rows_of(course: Course, *statuses: str) -> set[tuple[Any, ...]]:
    """The planned reminders of the course's patient (not the change notices)."""
    rows = Reminder.objects.filter(
        status__in=statuses or Reminder.LIVE_STATUSES, patient=course.patient, kind__in=PLANNED_KINDS
    ).values_list("session_id", "course_id", "kind", "channel", "planned_at")
    return set(rows)
