"""The course planner: a whole induction course placed week by week of the protocol's cadence."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from ketaminecare.rules import Rule
from sessions.scheduling.clinic import ClinicState
from sessions.scheduling.instants import window_bounds
from sessions.scheduling.problems import (
    RULE_MESSAGES,
    CourseRules,
    Problem,
    course_rule_problems,
    session_count_problem,
)
from sessions.scheduling.slots import Preferences, Slot, find_slot, therapist_free_in


@dataclass(frozen=True)
class ProposedSession:
    sequence: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int
    clinician_id: int
    window_opens_at: dt.datetime
    window_closes_at: dt.datetime
    therapist_free_in_window: bool


@dataclass
class Plan:
    first_date: dt.date
    sessions: list[ProposedSession] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.problems


def _day_problem(day: dt.date, reasons: Counter[Rule]) -> Problem:
    rule = reasons.most_common(1)[0][0] if reasons else Rule.CLINIC_HOURS
    return Problem(rule, day, RULE_MESSAGES[rule])


def _cadence(weekly: tuple[int, ...], session_count: int | None) -> list[int]:
    """Sessions per week: the protocol's cadence, trimmed or extended at the end to a preferred count."""
    cadence = list(weekly)
    if session_count is None:
        return cadence
    # A shorter (or longer) course keeps the cadence's rhythm, trimmed or extended at the end.
    while sum(cadence) > session_count:
        cadence[-1] -= 1
        if cadence[-1] == 0:
            cadence.pop()
    while sum(cadence) < session_count:
        cadence.append(cadence[-1] if cadence else 1)
    return cadence


def _proposed(state: ClinicState, rules: CourseRules, found: Slot, *, sequence: int) -> ProposedSession:
    start, chair, clinician = found
    end = start + rules.session_length
    opens_at, closes_at = window_bounds(end, rules.window_opens_after_hours, rules.window_closes_after_hours)
    return ProposedSession(
        sequence=sequence,
        starts_at=start,
        ends_at=end,
        chair_id=chair,
        clinician_id=clinician,
        window_opens_at=opens_at,
        window_closes_at=closes_at,
        therapist_free_in_window=therapist_free_in(state, opens_at, closes_at),
    )


def _plan_week(
    plan: Plan,
    *,
    state: ClinicState,
    rules: CourseRules,
    prefs: Preferences,
    week_start: dt.date,
    needed: int,
    patient_id: int | None,
) -> tuple[int, Problem | None]:
    """Place ``needed`` sessions in the seven days from ``week_start``, each after the plan's last.

    Returns how many were placed and, when a day was refused, the refusal that explains it best.
    """
    placed = 0
    last_failure: Problem | None = None
    for offset in range(7):
        if placed == needed:
            break
        day = week_start + dt.timedelta(days=offset)
        if prefs.weekdays is not None and day.weekday() not in prefs.weekdays:
            continue
        not_before = plan.sessions[-1].starts_at + rules.min_gap if plan.sessions else None
        found, reasons = find_slot(
            state=state, day=day, rules=rules, prefs=prefs, patient_id=patient_id, not_before=not_before
        )
        if found is None:
            # A weekday the clinic never opens explains nothing when an open day was refused.
            if last_failure is None or day.weekday() in state.clinic_hours:
                last_failure = _day_problem(day, reasons)
            continue
        plan.sessions.append(_proposed(state, rules, found, sequence=len(plan.sessions) + 1))
        placed += 1
    return placed, last_failure


def plan_induction(
    *,
    state: ClinicState,
    rules: CourseRules,
    prefs: Preferences,
    first_date: dt.date,
    patient_id: int | None,
) -> Plan:
    """Place a whole induction course from ``first_date``, week by week of the cadence.

    Week ``w`` is the seven days from ``first_date + 7w``; each needs ``cadence[w]`` sessions on
    distinct days, each at least ``min_gap`` after the previous one. Days outside the preferred
    weekdays are not tried. The plan is held in memory: booking it is the caller's business.
    """
    plan = Plan(first_date=first_date)
    cadence = _cadence(rules.weekly_cadence, prefs.session_count)
    count = session_count_problem(sum(cadence), rules)
    if count is not None:
        plan.problems.append(count)
        return plan
    for week, needed in enumerate(cadence):
        week_start = first_date + dt.timedelta(days=7 * week)
        placed, last_failure = _plan_week(
            plan, state=state, rules=rules, prefs=prefs, week_start=week_start, needed=needed, patient_id=patient_id
        )
        if placed < needed:
            detail = f" Last refusal: {last_failure.message} ({last_failure.date})" if last_failure else ""
            plan.problems.append(
                Problem(
                    last_failure.rule if last_failure else Rule.WEEKLY_CADENCE,
                    last_failure.date if last_failure else week_start,
                    f"Only {placed} of {needed} sessions fit in week {week + 1} (from {week_start}).{detail}",
                )
            )
            return plan
    plan.problems.extend(course_rule_problems([s.starts_at for s in plan.sessions], rules, state.zone))
    return plan


def next_feasible_plan(
    *,
    state: ClinicState,
    rules: CourseRules,
    prefs: Preferences,
    after: dt.date,
    patient_id: int | None,
    search_days: int,
) -> Plan | None:
    """The first feasible plan starting on a day after ``after``, within ``search_days``."""
    for offset in range(1, search_days + 1):
        day = after + dt.timedelta(days=offset)
        if prefs.weekdays is not None and day.weekday() not in prefs.weekdays:
            continue
        if day in state.closures or day.weekday() not in state.clinic_hours:
            continue
        plan = plan_induction(state=state, rules=rules, prefs=prefs, first_date=day, patient_id=patient_id)
        if plan.feasible:
            return plan
    return None
