"""Recurring series on the clinic's wall clock (maintenance sessions): RRULEs and fixed intervals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from dateutil import rrule

from sessions.scheduling.instants import local_instant


class SeriesTooLong(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a series of more than {limit} occurrences")
        self.limit = limit


class NonexistentLocalTime(ValueError):
    def __init__(self, naive: dt.datetime) -> None:
        super().__init__(f"{naive:%Y-%m-%d %H:%M} does not exist in the clinic's zone")
        self.naive = naive


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
        occurrences = _rrule_occurrences(rule, start_local=start_local, count=count, until_naive=until_naive)
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


def _rrule_occurrences(
    rule: str, *, start_local: dt.datetime, count: int | None, until_naive: dt.datetime | None
) -> Iterable[dt.datetime]:
    """The naive local occurrences of one RRULE from ``start_local``, bounded as asked."""
    rrule_parts(rule)  # refuses what the parser would misread
    try:
        parsed = rrule.rrulestr(rule.strip(), dtstart=start_local, ignoretz=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid RRULE ({exc})") from exc
    if not isinstance(parsed, rrule.rrule):
        raise ValueError("one RRULE, not a set")
    return parsed.replace(count=count, until=until_naive) if (count or until_naive) else parsed


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
