"""Busy time and weekly hours, on pure functions."""

from __future__ import annotations

import datetime as dt

from sessions.scheduling import (
    BusyIndex,
    within_weekly_hours,
)
from tests.sessions.scheduling.clinic_data import (
    MONDAY,
    NY,
    UTC,
    at,
    days,
)

# ---------------------------------------------------------------------------------------------
# Busy time and weekly hours


def test_busy_index_treats_intervals_as_half_open():
    busy = BusyIndex([("chair", at(MONDAY, 9), at(MONDAY, 10))])
    assert busy.is_free("chair", at(MONDAY, 8), at(MONDAY, 9))
    assert busy.is_free("chair", at(MONDAY, 10), at(MONDAY, 11))
    assert not busy.is_free("chair", at(MONDAY, 8), at(MONDAY, 9, 1))
    assert not busy.is_free("chair", at(MONDAY, 9, 59), at(MONDAY, 11))
    assert not busy.is_free("chair", at(MONDAY, 9, 15), at(MONDAY, 9, 45))
    assert not busy.is_free("chair", at(MONDAY, 8), at(MONDAY, 11))


def test_busy_index_keeps_resources_apart_and_knows_nothing_of_unknown_ones():
    busy = BusyIndex([(("chair", 1), at(MONDAY, 9), at(MONDAY, 10))])
    assert not busy.is_free(("chair", 1), at(MONDAY, 9), at(MONDAY, 10))
    assert busy.is_free(("chair", 2), at(MONDAY, 9), at(MONDAY, 10))
    assert busy.is_free(("clinician", 1), at(MONDAY, 9), at(MONDAY, 10))


def test_busy_index_merges_overlapping_and_touching_spans():
    busy = BusyIndex(
        [
            ("c", at(MONDAY, 12), at(MONDAY, 13)),
            ("c", at(MONDAY, 9), at(MONDAY, 10)),
            ("c", at(MONDAY, 9, 30), at(MONDAY, 11)),
            ("c", at(MONDAY, 11), at(MONDAY, 11, 30)),
        ]
    )
    assert busy.busy_between("c", at(MONDAY, 0), at(MONDAY, 23)) == [
        (at(MONDAY, 9), at(MONDAY, 11, 30)),
        (at(MONDAY, 12), at(MONDAY, 13)),
    ]
    assert busy.is_free("c", at(MONDAY, 11, 30), at(MONDAY, 12))
    assert not busy.is_free("c", at(MONDAY, 10, 30), at(MONDAY, 10, 45))


def test_busy_index_add_makes_time_busy():
    busy = BusyIndex()
    assert busy.is_free("c", at(MONDAY, 9), at(MONDAY, 10))
    busy.add("c", at(MONDAY, 9, 30), at(MONDAY, 10, 30))
    assert not busy.is_free("c", at(MONDAY, 9), at(MONDAY, 10))
    assert busy.is_free("c", at(MONDAY, 10, 30), at(MONDAY, 11))


def test_busy_between_lists_only_spans_that_overlap():
    busy = BusyIndex([("c", at(MONDAY, h), at(MONDAY, h, 30)) for h in (8, 10, 12, 14)])
    assert busy.busy_between("c", at(MONDAY, 10, 30), at(MONDAY, 14)) == [(at(MONDAY, 12), at(MONDAY, 12, 30))]
    assert busy.busy_between("other", at(MONDAY, 0), at(MONDAY, 23)) == []


def test_busy_index_compares_instants_not_wall_times():
    # 13:00 UTC is 09:00 in New York in June.
    busy = BusyIndex([("c", dt.datetime(2031, 6, 2, 13, tzinfo=UTC), dt.datetime(2031, 6, 2, 14, tzinfo=UTC))])
    assert not busy.is_free("c", at(MONDAY, 9), at(MONDAY, 9, 30))
    assert busy.is_free("c", at(MONDAY, 13), at(MONDAY, 14))


def test_within_weekly_hours():
    hours = {0: [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(18))]}
    assert within_weekly_hours(hours, at(MONDAY, 8), at(MONDAY, 12), NY)
    assert within_weekly_hours(hours, at(MONDAY, 13), at(MONDAY, 18), NY)
    assert not within_weekly_hours(hours, at(MONDAY, 7, 45), at(MONDAY, 9), NY)
    assert not within_weekly_hours(hours, at(MONDAY, 17), at(MONDAY, 18, 1), NY)
    # Across the lunch break: in no single block.
    assert not within_weekly_hours(hours, at(MONDAY, 11), at(MONDAY, 14), NY)
    # Tuesday has no hours at all.
    assert not within_weekly_hours(hours, at(MONDAY + days(1), 9), at(MONDAY + days(1), 10), NY)
    # Across midnight.
    assert not within_weekly_hours(
        {0: [(dt.time(0), dt.time(23, 59))]}, at(MONDAY, 23), at(MONDAY, 23, 30) + dt.timedelta(hours=1), NY
    )


def test_within_weekly_hours_reads_instants_on_the_clinic_wall_clock():
    hours = {0: [(dt.time(8), dt.time(18))]}
    # 12:00-13:00 UTC is 08:00-09:00 in New York in June, but 07:00-08:00 in January.
    june = dt.datetime(2031, 6, 2, 12, tzinfo=UTC)
    january = dt.datetime(2031, 1, 6, 12, tzinfo=UTC)
    assert within_weekly_hours(hours, june, june + dt.timedelta(hours=1), NY)
    assert not within_weekly_hours(hours, january, january + dt.timedelta(hours=1), NY)
