"""The course rules a plan or a change keeps, and the problems that say which one it breaks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ketaminecare.rules import Rule
from sessions.scheduling.instants import UTC

RULE_MESSAGES = {
    Rule.SESSION_COUNT: "The number of induction sessions is outside the protocol's bounds.",
    Rule.INDUCTION_SPAN: "First to last induction session falls outside the protocol's span.",
    Rule.MIN_GAP: "Sessions of a course are closer together than the protocol's minimum gap.",
    Rule.ONE_PER_DAY: "A course has at most one session a day.",
    Rule.CLINIC_CLOSED: "The clinic is closed that day.",
    Rule.CLINIC_HOURS: "The session does not fit in the clinic's opening hours.",
    Rule.CHAIR_UNAVAILABLE: "No chair is free for the whole session.",
    Rule.CLINICIAN_UNAVAILABLE: "No clinician is working and free for the whole session.",
    Rule.PATIENT_UNAVAILABLE: "The patient already has a session at that time.",
    Rule.WEEKLY_CADENCE: "Not enough sessions fit in a week of the protocol's cadence.",
    Rule.NONEXISTENT_LOCAL_TIME: "That wall-clock time does not exist in the clinic's zone (DST).",
    Rule.IN_THE_PAST: "A session cannot be booked in the past.",
}


@dataclass(frozen=True)
class CourseRules:
    """The numbers of a protocol that planning and rescheduling keep."""

    weekly_cadence: tuple[int, ...]
    sessions_min: int
    sessions_max: int
    span_min_days: int
    span_max_days: int
    min_gap: dt.timedelta
    session_length: dt.timedelta
    window_opens_after_hours: int
    window_closes_after_hours: int


@dataclass(frozen=True)
class Problem:
    """Why something does not fit: the rule, the day it failed on, a sentence for a person."""

    rule: Rule
    date: dt.date | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "date": self.date.isoformat() if self.date else None,
            "message": self.message,
        }


def session_count_problem(count: int, rules: CourseRules) -> Problem | None:
    """The problem of a course of ``count`` induction sessions, or None when the protocol allows it."""
    if rules.sessions_min <= count <= rules.sessions_max:
        return None
    return Problem(
        Rule.SESSION_COUNT,
        None,
        f"{count} sessions; the protocol allows {rules.sessions_min} to {rules.sessions_max}.",
    )


def _induction_problems(days: list[dt.date], rules: CourseRules) -> list[Problem]:
    """Count and span: the rules of an induction course as a whole."""
    problems: list[Problem] = []
    count = session_count_problem(len(days), rules)
    if count is not None:
        problems.append(count)
    if days:
        span = (days[-1] - days[0]).days
        if not rules.span_min_days <= span <= rules.span_max_days:
            problems.append(
                Problem(
                    Rule.INDUCTION_SPAN,
                    days[-1],
                    f"First to last session is {span} days; the protocol asks for "
                    f"{rules.span_min_days} to {rules.span_max_days}.",
                )
            )
    return problems


def course_rule_problems(
    starts: Sequence[dt.datetime], rules: CourseRules, zone: ZoneInfo, *, induction: bool = True
) -> list[Problem]:
    """Every course rule the given session starts break (count, span, gap, one a day)."""
    ordered = sorted(s.astimezone(UTC) for s in starts)
    days = [s.astimezone(zone).date() for s in ordered]
    problems = _induction_problems(days, rules) if induction else []
    for previous, current, day, previous_day in zip(ordered, ordered[1:], days[1:], days, strict=False):
        if day == previous_day:
            problems.append(Problem(Rule.ONE_PER_DAY, day, f"Two sessions on {day}."))
        elif current - previous < rules.min_gap:
            hours = (current - previous).total_seconds() / 3600
            problems.append(
                Problem(
                    Rule.MIN_GAP,
                    day,
                    f"{hours:.0f} h after the previous session; the protocol asks for at least "
                    f"{rules.min_gap.total_seconds() / 3600:.0f} h.",
                )
            )
    return problems
