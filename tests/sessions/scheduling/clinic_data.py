"""A clinic held in memory for the scheduling tests: New York hours, two chairs, two clinicians."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sessions.scheduling import (
    BusyIndex,
    ClinicState,
    CourseRules,
)

NY = ZoneInfo("America/New_York")
UTC = dt.UTC
MONDAY = dt.date(2031, 6, 2)
SPRING_FORWARD = dt.date(2025, 3, 9)
FALL_BACK = dt.date(2025, 11, 2)

RULES = CourseRules(
    weekly_cadence=(3, 3),
    sessions_min=4,
    sessions_max=6,
    span_min_days=9,
    span_max_days=16,
    min_gap=dt.timedelta(hours=40),
    session_length=dt.timedelta(minutes=100),
    window_opens_after_hours=24,
    window_closes_after_hours=48,
)
WEEKDAYS_8_TO_18 = {d: [(dt.time(8), dt.time(18))] for d in range(5)}
CHAIRS = [1, 2]
CLINICIANS = [10, 11]
THERAPIST = 20
PATIENT = 100


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def mwf(first: dt.date = MONDAY, hour: int = 8) -> list[dt.datetime]:
    """Monday, Wednesday, Friday for two weeks: 6 sessions, 11 days first to last."""
    return [at(first + days(offset), hour) for offset in (0, 2, 4, 7, 9, 11)]


def state(
    *,
    busy: Iterable[tuple[Any, dt.datetime, dt.datetime]] = (),
    closures: Iterable[dt.date] = (),
    therapist_hours: dict[int, list[tuple[dt.time, dt.time]]] | None = None,
    not_before: dt.datetime | None = None,
    clinic_hours: dict[int, list[tuple[dt.time, dt.time]]] | None = None,
) -> ClinicState:
    return ClinicState(
        zone=NY,
        clinic_hours=WEEKDAYS_8_TO_18 if clinic_hours is None else clinic_hours,
        closures=set(closures),
        chair_ids=list(CHAIRS),
        clinician_hours={c: dict(WEEKDAYS_8_TO_18) for c in CLINICIANS},
        therapist_hours={THERAPIST: WEEKDAYS_8_TO_18 if therapist_hours is None else therapist_hours},
        busy=BusyIndex(busy),
        not_before=not_before,
    )


def rules_of(problems: Iterable[Any]) -> list[str]:
    return [p.rule for p in problems]
