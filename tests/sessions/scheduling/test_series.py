"""Wall-clock series across daylight saving, on pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from sessions.scheduling import (
    NonexistentLocalTime,
    wall_clock_series,
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


@pytest.mark.parametrize(
    ("first_day", "offsets_before", "offsets_after"),
    [(dt.date(2025, 3, 3), -5, -4), (dt.date(2025, 10, 27), -4, -5)],
    ids=["spring_forward", "fall_back"],
)
def test_weekly_series_at_nine_stays_at_nine_across_dst(first_day, offsets_before, offsets_after):
    series = wall_clock_series(first=at(first_day, 9), zone=NY, interval_days=7, count=3)

    local = [s.astimezone(NY) for s in series]
    assert [s.date() for s in local] == [first_day, first_day + days(7), first_day + days(14)]
    assert all(s.time() == dt.time(9) for s in local)
    assert [s.utcoffset() for s in series] == [
        dt.timedelta(hours=offsets_before),
        dt.timedelta(hours=offsets_after),
        dt.timedelta(hours=offsets_after),
    ]
    # The UTC hour moves with the offset: the week across the change is an hour short or long.
    elapsed = series[1].astimezone(UTC) - series[0].astimezone(UTC)
    assert elapsed == days(7) + dt.timedelta(hours=offsets_before - offsets_after)


def test_rrule_series_across_both_dst_changes_of_2025_stays_at_nine():
    series = wall_clock_series(
        first=at(dt.date(2025, 3, 3), 9), zone=NY, rule="FREQ=WEEKLY;INTERVAL=4;BYDAY=MO", until=dt.date(2025, 11, 30)
    )
    local = [s.astimezone(NY) for s in series]
    assert len(series) == 10
    assert local[0].date() == dt.date(2025, 3, 3)
    assert local[-1].date() == dt.date(2025, 11, 10)
    assert all(s.time() == dt.time(9) and s.weekday() == 0 for s in local)
    # 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
    expected_utc_hours = [13 if SPRING_FORWARD < s.date() < FALL_BACK else 14 for s in local]
    assert [s.astimezone(UTC).hour for s in series] == expected_utc_hours
    assert expected_utc_hours[0] == 14 and expected_utc_hours[1] == 13 and expected_utc_hours[-1] == 14


def test_series_given_in_utc_keeps_the_clinic_wall_time():
    first = at(dt.date(2025, 10, 27), 9).astimezone(UTC)
    series = wall_clock_series(first=first, zone=NY, interval_days=7, count=2)
    assert [s.astimezone(NY).time() for s in series] == [dt.time(9), dt.time(9)]


def test_series_at_a_nonexistent_local_time_is_reported():
    with pytest.raises(NonexistentLocalTime) as caught:
        wall_clock_series(first=at(dt.date(2025, 3, 2), 2, 30), zone=NY, interval_days=7, count=3)
    assert caught.value.naive == dt.datetime(2025, 3, 9, 2, 30)
    assert "2025-03-09 02:30" in str(caught.value)


def test_series_needs_a_count_or_an_end():
    with pytest.raises(ValueError, match="count or an until"):
        wall_clock_series(first=at(MONDAY, 9), zone=NY, interval_days=7)


def test_series_until_a_date_includes_that_date():
    series = wall_clock_series(first=at(MONDAY, 9), zone=NY, interval_days=7, until=MONDAY + days(14))
    assert [s.astimezone(NY).date() for s in series] == [MONDAY, MONDAY + days(7), MONDAY + days(14)]
