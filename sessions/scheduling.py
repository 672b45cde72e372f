"""Calendar arithmetic with no ORM in it: spacing, spans, windows, availability, planning.

Every instant here is timezone-aware. Durations between instants are elapsed time: they are
computed in UTC, never by adding a timedelta to a wall-clock datetime (which keeps the wall time
across a daylight-saving change and so is off by an hour). Recurring times are local wall time
in the clinic's zone, attached to the zone only once each occurrence is known.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

UTC = dt.UTC


class Rule:
    """Names of the rules a plan or a change can break; stable, shown to users and clients."""

    SESSION_COUNT = "session_count"
    INDUCTION_SPAN = "induction_span"
    MIN_GAP = "min_gap"
    ONE_PER_DAY = "one_session_per_day"
    CLINIC_CLOSED = "clinic_closed"
    CLINIC_HOURS = "clinic_hours"
    CHAIR_UNAVAILABLE = "chair_unavailable"
    CLINICIAN_UNAVAILABLE = "clinician_unavailable"
    PATIENT_UNAVAILABLE = "patient_unavailable"
    WEEKLY_CADENCE = "weekly_cadence"
    NONEXISTENT_LOCAL_TIME = "nonexistent_local_time"
    IN_THE_PAST = "in_the_past"


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


# ---------------------------------------------------------------------------------------------
# Instants and wall time


def elapsed_after(instant: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """``instant`` plus ``delta`` of elapsed time, as an aware UTC datetime."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime")
    return instant.astimezone(UTC) + delta


def local_instant(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime | None:
    """The instant at ``wall`` on ``day`` in ``zone``, or None when that wall time does not exist.

    An ambiguous time (the repeated hour in autumn) takes its first occurrence (fold=0).
    """
    naive = dt.datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        return None
    return aware


def window_bounds(
    session_end: dt.datetime, opens_after_hours: int, closes_after_hours: int
) -> tuple[dt.datetime, dt.datetime]:
    """An integration window, on elapsed time from the end of its session."""
    return (
        elapsed_after(session_end, dt.timedelta(hours=opens_after_hours)),
        elapsed_after(session_end, dt.timedelta(hours=closes_after_hours)),
    )


def wall_clock_series(
    *,
    first: dt.datetime,
    zone: ZoneInfo,
    interval_days: int | None = None,
    rule: str | None = None,
    count: int | None = None,
    until: dt.date | None = None,
    limit: int = 500,
) -> list[dt.datetime]:
    """Occurrences of a recurring series at a fixed local wall time, as aware datetimes.

    ``first`` gives the first day and the wall time (taken in ``zone``). The recurrence runs on
    naive local time and each occurrence is attached to the zone afterwards, so 09:00 stays 09:00
    across daylight-saving changes. ``rule`` is one RFC 5545 RRULE (``FREQ=WEEKLY;...``, see
    ``rrule_parts``); without it, the series repeats every ``interval_days``. The series ends by
    ``count``, by ``until`` or by the rule's own COUNT or UNTIL: one of them, never two. More than
    ``limit`` occurrences raise SeriesTooLong.
    """
    bounded_by_rule = rule_is_bounded(rule)
    if count is None and until is None and not bounded_by_rule:
        raise ValueError("a series needs a count or an until date")
    if bounded_by_rule and (count is not None or until is not None):
        raise ValueError("the rule has its own COUNT or UNTIL: give no count or until besides")
    start_local = first.astimezone(zone).replace(tzinfo=None)
    until_naive = dt.datetime.combine(until, dt.time.max) if until else None
    occurrences: Iterable[dt.datetime]
    if rule:
        rrule_parts(rule)  # refuses what the parser would misread
        try:
            parsed = rrule.rrulestr(rule.strip(), dtstart=start_local, ignoretz=True)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"not a valid RRULE ({exc})") from exc
        if not isinstance(parsed, rrule.rrule):
            raise ValueError("one RRULE, not a set")
        occurrences = parsed.replace(count=count, until=until_naive) if (count or until_naive) else parsed
    else:
        occurrences = rrule.rrule(
            rrule.DAILY, interval=interval_days or 1, dtstart=start_local, count=count, until=until_naive
        )
    result: list[dt.datetime] = []
    for naive in occurrences:
        if len(result) == limit:
            raise SeriesTooLong(limit)
        aware = local_instant(naive.date(), naive.time(), zone)
        if aware is None:
            # The wall time falls in a spring-forward gap: it does not exist that day.
            raise NonexistentLocalTime(naive)
        result.append(aware)
    return result


def rrule_parts(rule: str) -> dict[str, str]:
    """The NAME=value parts of one RRULE (an ``RRULE:`` prefix allowed), names upper-cased.

    Refused (ValueError): more than one line (a DTSTART, EXDATE or second rule), no FREQ, both
    COUNT and UNTIL (RFC 5545 forbids it), and an UNTIL in UTC: the series runs on the clinic's
    wall clock, so its UNTIL is a local date or date-time, as RFC 5545 asks of a floating start.
    """
    text = rule.strip()
    if "\n" in text or "\r" in text:
        raise ValueError("one RRULE line only (no DTSTART, EXDATE or second rule)")
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, _, value = part.partition("=")
        parts[name.strip().upper()] = value.strip()
    if "FREQ" not in parts:
        raise ValueError("an RRULE needs a FREQ")
    if "DTSTART" in parts:
        raise ValueError("the first session's time is first_starts_at, not a DTSTART in the rule")
    if "COUNT" in parts and "UNTIL" in parts:
        raise ValueError("an RRULE has COUNT or UNTIL, not both")
    if parts.get("UNTIL", "").upper().endswith("Z"):
        raise ValueError("UNTIL is the clinic's local date or time, without a Z")
    return parts


def rule_is_bounded(rule: str | None) -> bool:
    """Whether an RRULE ends by itself (its own COUNT or UNTIL); False for an invalid one."""
    if not rule:
        return False
    try:
        parts = rrule_parts(rule)
    except ValueError:
        return False
    return "COUNT" in parts or "UNTIL" in parts


class SeriesTooLong(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a series of more than {limit} occurrences")
        self.limit = limit


class NonexistentLocalTime(ValueError):
    def __init__(self, naive: dt.datetime) -> None:
        super().__init__(f"{naive:%Y-%m-%d %H:%M} does not exist in the clinic's zone")
        self.naive = naive


# ---------------------------------------------------------------------------------------------
# Busy time


class BusyIndex:
    """Busy intervals per resource, merged and sorted, answering "is this free?" in O(log n)."""

    def __init__(self, intervals: Iterable[tuple[Any, dt.datetime, dt.datetime]] = ()) -> None:
        raw: dict[Any, list[tuple[dt.datetime, dt.datetime]]] = {}
        for key, start, end in intervals:
            raw.setdefault(key, []).append((start.astimezone(UTC), end.astimezone(UTC)))
        self._starts: dict[Any, list[dt.datetime]] = {}
        self._ends: dict[Any, list[dt.datetime]] = {}
        for key, spans in raw.items():
            self._set(key, spans)

    def _set(self, key: Any, spans: list[tuple[dt.datetime, dt.datetime]]) -> None:
        spans.sort()
        merged: list[list[dt.datetime]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts[key] = [s for s, _ in merged]
        self._ends[key] = [e for _, e in merged]

    def add(self, key: Any, start: dt.datetime, end: dt.datetime) -> None:
        spans = list(zip(self._starts.get(key, []), self._ends.get(key, []), strict=True))
        spans.append((start.astimezone(UTC), end.astimezone(UTC)))
        self._set(key, spans)

    def is_free(self, key: Any, start: dt.datetime, end: dt.datetime) -> bool:
        """True when nothing busy for ``key`` overlaps the half-open interval [start, end)."""
        starts = self._starts.get(key)
        if not starts:
            return True
        # Busy spans are disjoint and sorted, so their ends are sorted too: only the last span
        # starting before ``end`` can reach past ``start``.
        i = bisect.bisect_left(starts, end)
        return i == 0 or self._ends[key][i - 1] <= start

    def busy_between(self, key: Any, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        starts = self._starts.get(key, [])
        ends = self._ends.get(key, [])
        i = bisect.bisect_right(ends, start)
        out = []
        while i < len(starts) and starts[i] < end:
            out.append((starts[i], ends[i]))
            i += 1
        return out


WeeklyHours = dict[int, list[tuple[dt.time, dt.time]]]


def within_weekly_hours(hours: WeeklyHours, start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> bool:
    """True when [start, end) lies inside one block of weekly wall-clock hours on one local day."""
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    if local_end.date() != local_start.date() and local_end.time() != dt.time(0):
        return False
    for block_start, block_end in hours.get(local_start.weekday(), ()):
        if block_start <= local_start.time() and (
            local_end.time() <= block_end and local_end.date() == local_start.date()
        ):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Course rules


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

    rule: str
    date: dt.date | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "date": self.date.isoformat() if self.date else None,
            "message": self.message,
        }


def course_rule_problems(
    starts: Sequence[dt.datetime], rules: CourseRules, zone: ZoneInfo, *, induction: bool = True
) -> list[Problem]:
    """Every course rule the given session starts break (count, span, gap, one a day)."""
    problems: list[Problem] = []
    ordered = sorted(s.astimezone(UTC) for s in starts)
    days = [s.astimezone(zone).date() for s in ordered]
    if induction:
        if not rules.sessions_min <= len(ordered) <= rules.sessions_max:
            problems.append(
                Problem(
                    Rule.SESSION_COUNT,
                    None,
                    f"{len(ordered)} sessions; the protocol allows {rules.sessions_min} to {rules.sessions_max}.",
                )
            )
        if ordered:
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


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass(frozen=True)
class Preferences:
    weekdays: frozenset[int] | None = None
    earliest: dt.time | None = None
    latest: dt.time | None = None
    chair_id: int | None = None
    clinician_id: int | None = None
    session_count: int | None = None


@dataclass
class ClinicState:
    """What the planner needs to know of the clinic, loaded once for the whole horizon."""

    zone: ZoneInfo
    clinic_hours: WeeklyHours
    closures: set[dt.date]
    chair_ids: list[int]
    clinician_hours: dict[int, WeeklyHours]
    therapist_hours: dict[int, WeeklyHours]
    # Keys: ("chair", id), ("clinician", id), ("patient", id), ("therapist", id). Staff time off
    # is entered as busy time too.
    busy: BusyIndex
    slot: dt.timedelta = dt.timedelta(minutes=15)
    integration_length: dt.timedelta = dt.timedelta(minutes=60)
    not_before: dt.datetime | None = None


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


def therapist_free_in(state: ClinicState, opens: dt.datetime, closes: dt.datetime) -> bool:
    """True when some therapist has a working, unbooked stretch of an appointment's length."""
    need = state.integration_length
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
                start, end = max(start, opens), min(end, closes)
                cursor = start
                for busy_start, busy_end in state.busy.busy_between(("therapist", therapist_id), start, end):
                    if busy_start - cursor >= need:
                        return True
                    cursor = max(cursor, busy_end)
                if end - cursor >= need:
                    return True
            day += dt.timedelta(days=1)
    return False


def find_slot(
    *,
    state: ClinicState,
    day: dt.date,
    rules: CourseRules,
    prefs: Preferences,
    patient_id: int | None,
    not_before: dt.datetime | None,
    prefer_covered_window: bool = True,
) -> tuple[tuple[dt.datetime, int, int] | None, Counter[str]]:
    """The best (start, chair, clinician) on ``day``, or None with a count of why each start failed.

    Tries start times on the slot grid in order; prefers the earliest start whose integration
    window has a therapist free, falling back on the earliest start that fits at all.
    """
    reasons: Counter[str] = Counter()
    zone = state.zone
    hours = state.clinic_hours.get(day.weekday())
    if day in state.closures or not hours:
        reasons[Rule.CLINIC_CLOSED] += 1
        return None, reasons
    chairs = list(state.chair_ids)
    if prefs.chair_id in chairs:
        chairs.remove(prefs.chair_id)
        chairs.insert(0, prefs.chair_id)
    clinicians = sorted(state.clinician_hours)
    if prefs.clinician_id in state.clinician_hours:
        clinicians.remove(prefs.clinician_id)
        clinicians.insert(0, prefs.clinician_id)

    first_fit: tuple[dt.datetime, int, int] | None = None
    for opens, closes in hours:
        earliest = max(opens, prefs.earliest) if prefs.earliest else opens
        cursor = local_instant(day, earliest, zone)
        closing = local_instant(day, closes, zone)
        latest = local_instant(day, prefs.latest, zone) if prefs.latest else None
        if cursor is None or closing is None:
            reasons[Rule.NONEXISTENT_LOCAL_TIME] += 1
            continue
        cursor = cursor.astimezone(UTC)
        while cursor + rules.session_length <= closing and (latest is None or cursor <= latest):
            start, end = cursor, cursor + rules.session_length
            cursor = cursor + state.slot
            if state.not_before and start < state.not_before:
                reasons[Rule.IN_THE_PAST] += 1
                continue
            if not_before and start < not_before:
                reasons[Rule.MIN_GAP] += 1
                continue
            if patient_id is not None and not state.busy.is_free(("patient", patient_id), start, end):
                reasons[Rule.PATIENT_UNAVAILABLE] += 1
                continue
            chair = next((c for c in chairs if state.busy.is_free(("chair", c), start, end)), None)
            if chair is None:
                reasons[Rule.CHAIR_UNAVAILABLE] += 1
                continue
            clinician = next(
                (
                    c
                    for c in clinicians
                    # The bisect is cheaper than the wall-clock check, and refuses more often.
                    if state.busy.is_free(("clinician", c), start, end)
                    and within_weekly_hours(state.clinician_hours[c], start, end, zone)
                ),
                None,
            )
            if clinician is None:
                reasons[Rule.CLINICIAN_UNAVAILABLE] += 1
                continue
            found = (start, chair, clinician)
            if first_fit is None:
                first_fit = found
            if not prefer_covered_window:
                return first_fit, reasons
            opens_at, closes_at = window_bounds(end, rules.window_opens_after_hours, rules.window_closes_after_hours)
            if therapist_free_in(state, opens_at, closes_at):
                return found, reasons
    if first_fit is None and not reasons:
        # No start time was even tried: the session is longer than the open (and preferred) hours.
        reasons[Rule.CLINIC_HOURS] += 1
    return first_fit, reasons


def _day_problem(day: dt.date, reasons: Counter[str]) -> Problem:
    rule = reasons.most_common(1)[0][0] if reasons else Rule.CLINIC_HOURS
    return Problem(rule, day, RULE_MESSAGES[rule])


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
    cadence = list(rules.weekly_cadence)
    if prefs.session_count is not None:
        # A shorter (or longer) course keeps the cadence's rhythm, trimmed or extended at the end.
        while sum(cadence) > prefs.session_count:
            cadence[-1] -= 1
            if cadence[-1] == 0:
                cadence.pop()
        while sum(cadence) < prefs.session_count:
            cadence.append(cadence[-1] if cadence else 1)
    total = sum(cadence)
    if not rules.sessions_min <= total <= rules.sessions_max:
        plan.problems.append(
            Problem(
                Rule.SESSION_COUNT,
                None,
                f"{total} sessions; the protocol allows {rules.sessions_min} to {rules.sessions_max}.",
            )
        )
        return plan
    previous_start: dt.datetime | None = None
    sequence = 0
    for week, needed in enumerate(cadence):
        placed = 0
        week_start = first_date + dt.timedelta(days=7 * week)
        last_failure: Problem | None = None
        for offset in range(7):
            if placed == needed:
                break
            day = week_start + dt.timedelta(days=offset)
            if prefs.weekdays is not None and day.weekday() not in prefs.weekdays:
                continue
            not_before = previous_start + rules.min_gap if previous_start else None
            found, reasons = find_slot(
                state=state, day=day, rules=rules, prefs=prefs, patient_id=patient_id, not_before=not_before
            )
            if found is None:
                # A weekday the clinic never opens explains nothing when an open day was refused.
                if last_failure is None or day.weekday() in state.clinic_hours:
                    last_failure = _day_problem(day, reasons)
                continue
            start, chair, clinician = found
            end = start + rules.session_length
            opens_at, closes_at = window_bounds(end, rules.window_opens_after_hours, rules.window_closes_after_hours)
            sequence += 1
            plan.sessions.append(
                ProposedSession(
                    sequence=sequence,
                    starts_at=start,
                    ends_at=end,
                    chair_id=chair,
                    clinician_id=clinician,
                    window_opens_at=opens_at,
                    window_closes_at=closes_at,
                    therapist_free_in_window=therapist_free_in(state, opens_at, closes_at),
                )
            )
            previous_start = start
            placed += 1
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


# ---------------------------------------------------------------------------------------------
# Free time


@dataclass(frozen=True)
class FreeBlock:
    """A stretch in which a chair and a clinician (or a therapist alone) are both free."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    chair_id: int | None
    staff_id: int


Spans = list[tuple[dt.datetime, dt.datetime]]


def free_spans(busy: BusyIndex, key: Any, start: dt.datetime, end: dt.datetime) -> Spans:
    """The parts of [start, end) in which ``key`` has nothing busy."""
    out: Spans = []
    cursor = start
    for busy_start, busy_end in busy.busy_between(key, start, end):
        if busy_start > cursor:
            out.append((cursor, busy_start))
        cursor = max(cursor, busy_end)
    if cursor < end:
        out.append((cursor, end))
    return out


def intersect_spans(first: Spans, second: Spans) -> Spans:
    """The overlap of two sorted lists of disjoint spans."""
    out: Spans = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            out.append((start, end))
        if first[i][1] <= second[j][1]:
            i += 1
        else:
            j += 1
    return out


def _weekly_spans(hours: WeeklyHours, day: dt.date, zone: ZoneInfo) -> Spans:
    """A day's blocks of weekly wall-clock hours, as instants (a block on a missing time is skipped)."""
    spans: Spans = []
    for block_start, block_end in sorted(hours.get(day.weekday(), ())):
        start = local_instant(day, block_start, zone)
        end = local_instant(day, block_end, zone)
        if start is not None and end is not None and start < end:
            spans.append((start.astimezone(UTC), end.astimezone(UTC)))
    return spans


def free_blocks(
    state: ClinicState,
    *,
    first: dt.date,
    last: dt.date,
    length: dt.timedelta,
    chair_ids: Sequence[int] | None = None,
    clinician_ids: Sequence[int] | None = None,
    patient_id: int | None = None,
) -> list[FreeBlock]:
    """Every maximal stretch, at least ``length`` long, in which a chair and a clinician are free.

    A stretch lies inside the clinic's opening hours and the clinician's working hours of one
    local day, outside closures, busy time (sessions, time off) and, when ``patient_id`` is
    given, the patient's own sessions; nothing before ``state.not_before``.
    """
    zone = state.zone
    chairs = [c for c in state.chair_ids if chair_ids is None or c in chair_ids]
    clinicians = sorted(c for c in state.clinician_hours if clinician_ids is None or c in clinician_ids)
    blocks: list[FreeBlock] = []
    day = first
    while day <= last:
        if day not in state.closures:
            for open_start, open_end in _weekly_spans(state.clinic_hours, day, zone):
                if state.not_before is not None:
                    open_start = max(open_start, state.not_before.astimezone(UTC))
                if open_end - open_start < length:
                    continue
                opening: Spans = [(open_start, open_end)]
                if patient_id is not None:
                    opening = free_spans(state.busy, ("patient", patient_id), open_start, open_end)
                for chair in chairs:
                    chair_free = intersect_spans(
                        opening, free_spans(state.busy, ("chair", chair), open_start, open_end)
                    )
                    if not chair_free:
                        continue
                    for clinician in clinicians:
                        working = intersect_spans(
                            chair_free, _weekly_spans(state.clinician_hours[clinician], day, zone)
                        )
                        for work_start, work_end in working:
                            for start, end in free_spans(state.busy, ("clinician", clinician), work_start, work_end):
                                if end - start >= length:
                                    blocks.append(FreeBlock(start, end, chair, clinician))
        day += dt.timedelta(days=1)
    blocks.sort(key=lambda b: (b.starts_at, b.chair_id or 0, b.staff_id))
    return blocks


def therapist_free_blocks(
    state: ClinicState,
    *,
    therapist_ids: Sequence[int],
    opens: dt.datetime,
    closes: dt.datetime,
    length: dt.timedelta,
) -> list[FreeBlock]:
    """Each therapist's working, unbooked stretches of at least ``length`` inside [opens, closes)."""
    zone = state.zone
    opens, closes = opens.astimezone(UTC), closes.astimezone(UTC)
    if state.not_before is not None:
        opens = max(opens, state.not_before.astimezone(UTC))
    blocks: list[FreeBlock] = []
    for therapist in therapist_ids:
        hours = state.therapist_hours.get(therapist)
        if hours is None or opens >= closes:
            continue
        day = opens.astimezone(zone).date()
        while day <= closes.astimezone(zone).date():
            for work_start, work_end in intersect_spans([(opens, closes)], _weekly_spans(hours, day, zone)):
                for start, end in free_spans(state.busy, ("therapist", therapist), work_start, work_end):
                    if end - start >= length:
                        blocks.append(FreeBlock(start, end, None, therapist))
            day += dt.timedelta(days=1)
    blocks.sort(key=lambda b: (b.starts_at, b.staff_id))
    return blocks
