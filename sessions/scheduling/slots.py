"""One session's place on one day: the planner's search for a start, and why a given slot fails."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ketaminecare.rules import Rule
from sessions.scheduling.busy import within_weekly_hours
from sessions.scheduling.clinic import ClinicState
from sessions.scheduling.instants import UTC, local_instant, window_bounds
from sessions.scheduling.problems import RULE_MESSAGES, CourseRules, Problem

# Where a session goes: its start, its chair and its clinician.
Slot = tuple[dt.datetime, int, int]


@dataclass(frozen=True)
class Preferences:
    weekdays: frozenset[int] | None = None
    earliest: dt.time | None = None
    latest: dt.time | None = None
    chair_id: int | None = None
    clinician_id: int | None = None
    session_count: int | None = None


def therapist_free_in(state: ClinicState, opens: dt.datetime, closes: dt.datetime) -> bool:
    """True when some therapist has a working, unbooked stretch of an appointment's length."""
    zone = state.zone
    for therapist_id, hours in state.therapist_hours.items():
        day = opens.astimezone(zone).date()
        last_day = closes.astimezone(zone).date()
        while day <= last_day:
            for block_start, block_end in hours.get(day.weekday(), ()):
                start = local_instant(day, block_start, zone)
                end = local_instant(day, block_end, zone)
                if start is None or end is None:
                    continue
                if _has_free_stretch(state, therapist_id, max(start, opens), min(end, closes)):
                    return True
            day += dt.timedelta(days=1)
    return False


def _has_free_stretch(state: ClinicState, therapist_id: int, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the therapist has an appointment's length unbooked somewhere in [start, end)."""
    need = state.integration_length
    cursor = start
    for busy_start, busy_end in state.busy.busy_between(("therapist", therapist_id), start, end):
        if busy_start - cursor >= need:
            return True
        cursor = max(cursor, busy_end)
    return end - cursor >= need


def _preferred_first(ids: Sequence[int], preferred: int | None) -> list[int]:
    ordered = list(ids)
    if preferred in ordered:
        ordered.remove(preferred)
        ordered.insert(0, preferred)
    return ordered


def _block_starts(
    *,
    state: ClinicState,
    day: dt.date,
    block: tuple[dt.time, dt.time],
    length: dt.timedelta,
    prefs: Preferences,
    reasons: Counter[Rule],
) -> Iterator[dt.datetime]:
    """The start times on the slot grid that one block of opening hours (and the preferences) allow."""
    opens, closes = block
    earliest = max(opens, prefs.earliest) if prefs.earliest else opens
    cursor = local_instant(day, earliest, state.zone)
    closing = local_instant(day, closes, state.zone)
    latest = local_instant(day, prefs.latest, state.zone) if prefs.latest else None
    if cursor is None or closing is None:
        reasons[Rule.NONEXISTENT_LOCAL_TIME] += 1
        return
    cursor = cursor.astimezone(UTC)
    while cursor + length <= closing and (latest is None or cursor <= latest):
        yield cursor
        cursor = cursor + state.slot


def _fit(
    state: ClinicState,
    *,
    start: dt.datetime,
    end: dt.datetime,
    chairs: list[int],
    clinicians: list[int],
    patient_id: int | None,
    not_before: dt.datetime | None,
    reasons: Counter[Rule],
) -> tuple[int, int] | None:
    """A free (chair, clinician) for [start, end), or None with the reason counted."""
    if state.not_before and start < state.not_before:
        reasons[Rule.IN_THE_PAST] += 1
        return None
    if not_before and start < not_before:
        reasons[Rule.MIN_GAP] += 1
        return None
    if patient_id is not None and not state.busy.is_free(("patient", patient_id), start, end):
        reasons[Rule.PATIENT_UNAVAILABLE] += 1
        return None
    chair = next((c for c in chairs if state.busy.is_free(("chair", c), start, end)), None)
    if chair is None:
        reasons[Rule.CHAIR_UNAVAILABLE] += 1
        return None
    clinician = next(
        (
            c
            for c in clinicians
            # The bisect is cheaper than the wall-clock check, and refuses more often.
            if state.busy.is_free(("clinician", c), start, end)
            and within_weekly_hours(state.clinician_hours[c], start, end, state.zone)
        ),
        None,
    )
    if clinician is None:
        reasons[Rule.CLINICIAN_UNAVAILABLE] += 1
        return None
    return chair, clinician


def find_slot(
    *,
    state: ClinicState,
    day: dt.date,
    rules: CourseRules,
    prefs: Preferences,
    patient_id: int | None,
    not_before: dt.datetime | None,
    prefer_covered_window: bool = True,
) -> tuple[Slot | None, Counter[Rule]]:
    """The best (start, chair, clinician) on ``day``, or None with a count of why each start failed.

    Tries start times on the slot grid in order; prefers the earliest start whose integration
    window has a therapist free, falling back on the earliest start that fits at all.
    """
    reasons: Counter[Rule] = Counter()
    hours = state.clinic_hours.get(day.weekday())
    if day in state.closures or not hours:
        reasons[Rule.CLINIC_CLOSED] += 1
        return None, reasons
    chairs = _preferred_first(state.chair_ids, prefs.chair_id)
    clinicians = _preferred_first(sorted(state.clinician_hours), prefs.clinician_id)
    first_fit: Slot | None = None
    for block in hours:
        for start in _block_starts(
            state=state, day=day, block=block, length=rules.session_length, prefs=prefs, reasons=reasons
        ):
            end = start + rules.session_length
            fit = _fit(
                state,
                start=start,
                end=end,
                chairs=chairs,
                clinicians=clinicians,
                patient_id=patient_id,
                not_before=not_before,
                reasons=reasons,
            )
            if fit is None:
                continue
            found = (start, *fit)
            first_fit = first_fit or found
            if not prefer_covered_window:
                return first_fit, reasons
            opens_at, closes_at = window_bounds(end, rules.window_opens_after_hours, rules.window_closes_after_hours)
            if therapist_free_in(state, opens_at, closes_at):
                return found, reasons
    if first_fit is None and not reasons:
        # No start time was even tried: the session is longer than the open (and preferred) hours.
        reasons[Rule.CLINIC_HOURS] += 1
    return first_fit, reasons


def slot_problems(
    state: ClinicState,
    *,
    start: dt.datetime,
    end: dt.datetime,
    chair_id: int,
    clinician_id: int,
    patient_id: int | None,
) -> list[Problem]:
    """Why one session at [start, end) in this chair with this clinician cannot be booked."""
    zone = state.zone
    day = start.astimezone(zone).date()
    problems: list[Problem] = []
    if state.not_before is not None and start < state.not_before:
        problems.append(Problem(Rule.IN_THE_PAST, day, RULE_MESSAGES[Rule.IN_THE_PAST]))
    if day in state.closures or not state.clinic_hours.get(day.weekday()):
        # A closure day, or a weekday the clinic never opens: closed, as the planner says too.
        problems.append(Problem(Rule.CLINIC_CLOSED, day, RULE_MESSAGES[Rule.CLINIC_CLOSED]))
    elif not within_weekly_hours(state.clinic_hours, start, end, zone):
        problems.append(Problem(Rule.CLINIC_HOURS, day, RULE_MESSAGES[Rule.CLINIC_HOURS]))
    if chair_id not in state.chair_ids or not state.busy.is_free(("chair", chair_id), start, end):
        problems.append(Problem(Rule.CHAIR_UNAVAILABLE, day, "The chair is not free for the whole session."))
    hours = state.clinician_hours.get(clinician_id)
    if (
        hours is None
        or not within_weekly_hours(hours, start, end, zone)
        or not state.busy.is_free(("clinician", clinician_id), start, end)
    ):
        problems.append(
            Problem(
                Rule.CLINICIAN_UNAVAILABLE,
                day,
                "The clinician is not working and free for the whole session.",
            )
        )
    if patient_id is not None and not state.busy.is_free(("patient", patient_id), start, end):
        problems.append(Problem(Rule.PATIENT_UNAVAILABLE, day, RULE_MESSAGES[Rule.PATIENT_UNAVAILABLE]))
    return problems
