"""Instants and wall time: elapsed time on UTC, wall-clock times attached to the clinic's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.UTC


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
