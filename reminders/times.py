"""When a reminder goes: elapsed time before its anchor, then quiet hours. No ORM here.

Offsets are elapsed time, computed on UTC instants: a reminder 72 hours before a session is 72
hours before it even when a daylight-saving change falls in between (adding a timedelta to a
local wall-clock datetime would keep the wall time and be an hour off). Quiet hours are wall-clock
times on the patient's own clock, so they are looked up in the patient's zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.UTC


def planned_at(anchor: dt.datetime, minutes_before: int) -> dt.datetime:
    """``minutes_before`` minutes of elapsed time before ``anchor``, in UTC."""
    if anchor.tzinfo is None:
        raise ValueError("naive datetime")
    return anchor.astimezone(UTC) - dt.timedelta(minutes=minutes_before)


def in_quiet_hours(instant: dt.datetime, zone: ZoneInfo, start: dt.time, end: dt.time) -> bool:
    """Whether ``instant`` falls in [start, end) on the wall clock of ``zone``; start == end: never."""
    if start == end:
        return False
    wall = instant.astimezone(zone).time()
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end  # the quiet hours span midnight


def quiet_hours_end(instant: dt.datetime, zone: ZoneInfo, end: dt.time) -> dt.datetime:
    """The first instant at or after ``instant`` whose wall time in ``zone`` is ``end``."""
    local = instant.astimezone(zone)
    day = local.date()
    for offset in (0, 1):
        candidate = dt.datetime.combine(day + dt.timedelta(days=offset), end, tzinfo=zone)
        # A wall time that does not exist (spring forward) normalises to the instant after the gap.
        candidate = candidate.astimezone(UTC)
        if candidate >= instant.astimezone(UTC):
            return candidate
    raise AssertionError("unreachable: one of two consecutive days reaches the end time")


def release_at(
    *,
    planned: dt.datetime,
    anchor: dt.datetime,
    zone: ZoneInfo,
    quiet_start: dt.time,
    quiet_end: dt.time,
    exempt_within: dt.timedelta,
) -> dt.datetime:
    """When a patient reminder planned at ``planned`` may go.

    Inside quiet hours it waits for their end, unless it is within ``exempt_within`` of its
    anchor (the 2-hour reminder before a session goes when planned: the patient is on the way).
    A delayed reminder never waits past ``anchor - exempt_within``: it goes then at the latest.
    """
    planned = planned.astimezone(UTC)
    anchor = anchor.astimezone(UTC)
    if anchor - planned <= exempt_within or not in_quiet_hours(planned, zone, quiet_start, quiet_end):
        return planned
    return max(planned, min(quiet_hours_end(planned, zone, quiet_end), anchor - exempt_within))
