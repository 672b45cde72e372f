"""The reminder outbox, kept in step with the calendar through the session services' signals,
and with the measures' alerts through theirs.

The outbox functions run as the signals' receivers, so they write in the booking's transaction
(see sessions.signals): the reminders follow the change, and the change notices tell of it
(reminders.services.notices), or nothing is written when the change is refused. The sender and
the signal itself arrive among the keyword arguments and are not needed. ``connect`` is called
from this app's ``ready()``: the sessions app knows nothing of reminders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from courses.models import Course
from measures import signals as measure_signals
from measures.models import MeasureAlert
from reminders.services.changes import (
    reminders_appointment_changed,
    reminders_course_booked,
    reminders_course_ended,
    reminders_session_changed,
)
from reminders.services.measure_alerts import reminders_alert_acknowledged, reminders_alert_raised
from reminders.services.notices import (
    notices_appointment_changed,
    notices_course_booked,
    notices_course_ended,
    notices_session_changed,
)
from reminders.services.staff_notices import notices_reschedule_requested
from sessions import signals


def _course_booked(*, course: Course, now: dt.datetime, **_: Any) -> None:
    reminders_course_booked(course, now=now)
    notices_course_booked(course, now=now)


def _session_changed(
    *,
    session_id: int,
    now: dt.datetime,
    moved_appointment_ids: list[int],
    cancelled_appointment_ids: list[int],
    actor: Any = None,
    **_: Any,
) -> None:
    reminders_session_changed(session_id, now=now)
    notices_session_changed(
        session_id,
        moved_appointment_ids=moved_appointment_ids,
        cancelled_appointment_ids=cancelled_appointment_ids,
        actor=actor,
        now=now,
    )


def _course_ended(
    *, course: Course, now: dt.datetime, cancelled_appointment_ids: list[int], actor: Any = None, **_: Any
) -> None:
    reminders_course_ended(course, now=now)
    notices_course_ended(course, cancelled_appointment_ids=cancelled_appointment_ids, actor=actor, now=now)


def _appointment_changed(
    *, appointment_id: int, now: dt.datetime, actor: Any = None, previous_therapist_id: int | None = None, **_: Any
) -> None:
    reminders_appointment_changed(appointment_id, now=now)
    notices_appointment_changed(appointment_id, actor=actor, now=now, previous_therapist_id=previous_therapist_id)


def _reschedule_requested(*, request_id: int, now: dt.datetime, **_: Any) -> None:
    notices_reschedule_requested(request_id, now=now)


def _alert_raised(*, alert: MeasureAlert, recipient_ids: list[int], now: dt.datetime, **_: Any) -> None:
    reminders_alert_raised(alert, recipient_ids=recipient_ids, now=now)


def _alert_acknowledged(*, alert_id: int, now: dt.datetime, **_: Any) -> None:
    reminders_alert_acknowledged(alert_id, now=now)


def connect() -> None:
    """Connect the outbox to the calendar's and the measures' signals (idempotent: each has a dispatch_uid)."""
    signals.course_booked.connect(_course_booked, dispatch_uid="reminders_course_booked")
    signals.session_changed.connect(_session_changed, dispatch_uid="reminders_session_changed")
    signals.course_ended.connect(_course_ended, dispatch_uid="reminders_course_ended")
    signals.appointment_changed.connect(_appointment_changed, dispatch_uid="reminders_appointment_changed")
    signals.reschedule_requested.connect(_reschedule_requested, dispatch_uid="reminders_reschedule_requested")
    measure_signals.alert_raised.connect(_alert_raised, dispatch_uid="reminders_alert_raised")
    measure_signals.alert_acknowledged.connect(_alert_acknowledged, dispatch_uid="reminders_alert_acknowledged")
