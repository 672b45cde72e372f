"""Instants, integration windows and daylight saving, on pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from sessions.scheduling import (
    elapsed_after,
    local_instant,
    window_bounds,
)
from tests.sessions.scheduling.clinic_data import (
    FALL_BACK,
    MONDAY,
    NY,
    SPRING_FORWARD,
    UTC,
    at,
    days,
)

# ---------------------------------------------------------------------------------------------
# Instants, windows and daylight saving


def test_elapsed_after_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="naive"):
        elapsed_after(dt.datetime(2031, 6, 2, 8), dt.timedelta(hours=1))


def test_window_opens_24h_and_closes_48h_after_the_session_ends():
    end = at(MONDAY, 9, 40)
    opens, closes = window_bounds(end, 24, 48)
    assert opens == at(MONDAY + days(1), 9, 40)
    assert closes == at(MONDAY + days(2), 9, 40)
    assert opens.tzinfo == UTC and closes.tzinfo == UTC


@pytest.mark.parametrize(
    ("session_end", "end_offset", "window_offset", "local_open"),
    [
        # Saturday 17:00 EST; the clocks spring forward that night: the window opens at 18:00 EDT.
        (at(SPRING_FORWARD - days(1), 17), -5, -4, dt.time(18)),
        # Saturday 17:00 EDT; the clocks fall back that night: the window opens at 16:00 EST.
        (at(FALL_BACK - days(1), 17), -4, -5, dt.time(16)),
    ],
    ids=["spring_forward", "fall_back"],
)
def test_window_is_elapsed_time_across_a_dst_change(session_end, end_offset, window_offset, local_open):
    opens, closes = window_bounds(session_end, 24, 48)

    assert opens.astimezone(UTC) - session_end.astimezone(UTC) == dt.timedelta(hours=24)
    assert closes.astimezone(UTC) - session_end.astimezone(UTC) == dt.timedelta(hours=48)
    assert session_end.utcoffset() == dt.timedelta(hours=end_offset)
    local_opens, local_closes = opens.astimezone(NY), closes.astimezone(NY)
    assert local_opens.utcoffset() == dt.timedelta(hours=window_offset)
    # The wall clock moved by an hour: the window does not open at the session's wall time.
    assert session_end.astimezone(NY).time() == dt.time(17)
    assert local_opens.time() == local_open
    assert local_closes.time() == local_open
    assert local_opens.date() == session_end.date() + days(1)
    assert local_closes.date() == session_end.date() + days(2)


def test_window_of_a_session_ending_just_before_spring_forward():
    # Ends 01:50 EST, ten minutes before the clocks jump to 03:00 EDT.
    end = dt.datetime(2025, 3, 9, 1, 50, tzinfo=NY)
    opens, closes = window_bounds(end, 24, 48)
    assert opens - end == dt.timedelta(hours=24)
    assert closes - end == dt.timedelta(hours=48)
    assert opens.astimezone(NY).replace(tzinfo=None) == dt.datetime(2025, 3, 10, 2, 50)


def test_local_instant_reports_the_nonexistent_spring_forward_time():
    assert local_instant(SPRING_FORWARD, dt.time(2, 30), NY) is None
    assert local_instant(SPRING_FORWARD, dt.time(3, 0), NY) == dt.datetime(2025, 3, 9, 7, 0, tzinfo=UTC)


def test_local_instant_takes_the_first_of_a_repeated_hour():
    repeated = local_instant(FALL_BACK, dt.time(1, 30), NY)
    assert repeated is not None
    assert repeated.utcoffset() == dt.timedelta(hours=-4)
    assert repeated.astimezone(UTC) == dt.datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
