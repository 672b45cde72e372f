"""Busy time and weekly hours: which resource is free when, as merged, sorted spans."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from sessions.scheduling.instants import UTC, local_instant

WeeklyHours = dict[int, list[tuple[dt.time, dt.time]]]
Spans = list[tuple[dt.datetime, dt.datetime]]


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


def weekly_spans(hours: WeeklyHours, day: dt.date, zone: ZoneInfo) -> Spans:
    """A day's blocks of weekly wall-clock hours, as instants (a block on a missing time is skipped)."""
    spans: Spans = []
    for block_start, block_end in sorted(hours.get(day.weekday(), ())):
        start = local_instant(day, block_start, zone)
        end = local_instant(day, block_end, zone)
        if start is not None and end is not None and start < end:
            spans.append((start.astimezone(UTC), end.astimezone(UTC)))
    return spans
