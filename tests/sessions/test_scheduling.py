"""The course rules and the calendar arithmetic, on pure functions: no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sessions.scheduling import (
    BusyIndex,
    ClinicState,
    CourseRules,
    NonexistentLocalTime,
    Preferences,
    Rule,
    course_rule_problems,
    elapsed_after,
    find_slot,
    local_instant,
    plan_induction,
    slot_problems,
    therapist_free_in,
    wall_clock_series,
    window_bounds,
    within_weekly_hours,
)

NY = ZoneInfo("America/New_York")
UTC = dt.UTC
MONDAY = dt.date(2031, 6, 2)
SPRING_FORWARD = dt.date(2025, 3, 9)
FALL_BACK = dt.date(2025, 11, 2)

RULES = CourseRules(
    weekly_cadence=(3, 3),
    sessions_min=4,
    sessions_max=6,
    span_min_days=9,
    span_max_days=16,
    min_gap=dt.timedelta(hours=40),
    session_length=dt.timedelta(minutes=100),
    window_opens_after_hours=24,
    window_closes_after_hours=48,
)
WEEKDAYS_8_TO_18 = {d: [(dt.time(8), dt.time(18))] for d in range(5)}
CHAIRS = [1, 2]
CLINICIANS = [10, 11]
THERAPIST = 20
PATIENT = 100


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def mwf(first: dt.date = MONDAY, hour: int = 8) -> list[dt.datetime]:
    """Monday, Wednesday, Friday for two weeks: 6 sessions, 11 days first to last."""
    return [at(first + days(offset), hour) for offset in (0, 2, 4, 7, 9, 11)]


def state(
    *,
    busy: Iterable[tuple[Any, dt.datetime, dt.datetime]] = (),
    closures: Iterable[dt.date] = (),
    therapist_hours: dict[int, list[tuple[dt.time, dt.time]]] | None = None,
    not_before: dt.datetime | None = None,
    clinic_hours: dict[int, list[tuple[dt.time, dt.time]]] | None = None,
) -> ClinicState:
    return ClinicState(
        zone=NY,
        clinic_hours=WEEKDAYS_8_TO_18 if clinic_hours is None else clinic_hours,
        closures=set(closures),
        chair_ids=list(CHAIRS),
        clinician_hours={c: dict(WEEKDAYS_8_TO_18) for c in CLINICIANS},
        therapist_hours={THERAPIST: WEEKDAYS_8_TO_18 if therapist_hours is None else therapist_hours},
        busy=BusyIndex(busy),
        not_before=not_before,
    )


def rules_of(problems: Iterable[Any]) -> list[str]:
    return [p.rule for p in problems]


# ---------------------------------------------------------------------------------------------
# Counts, spans, gaps, one a day


def test_three_a_week_for_two_weeks_keeps_every_course_rule():
    assert course_rule_problems(mwf(), RULES, NY) == []


@pytest.mark.parametrize("offsets", [(0, 5, 10), (0, 2, 4, 6, 8, 10, 12)], ids=["three", "seven"])
def test_session_count_outside_protocol_bounds_is_reported(offsets):
    problems = course_rule_problems([at(MONDAY + days(o), 8) for o in offsets], RULES, NY)
    assert rules_of(problems) == [Rule.SESSION_COUNT]
    assert problems[0].date is None
    assert f"{len(offsets)} sessions" in problems[0].message


def test_span_shorter_than_protocol_is_reported_on_the_last_day():
    starts = [at(MONDAY + days(offset), 8) for offset in (0, 2, 4, 7)]
    problems = course_rule_problems(starts, RULES, NY)
    assert rules_of(problems) == [Rule.INDUCTION_SPAN]
    assert problems[0].date == MONDAY + days(7)
    assert "7 days" in problems[0].message


def test_span_longer_than_protocol_is_reported():
    starts = [at(MONDAY + days(offset), 8) for offset in (0, 2, 4, 7, 9, 17)]
    problems = course_rule_problems(starts, RULES, NY)
    assert rules_of(problems) == [Rule.INDUCTION_SPAN]
    assert problems[0].date == MONDAY + days(17)


def test_span_is_counted_in_local_days_not_utc_days():
    # 20:00 in New York is already the next day in UTC; the span is still 9 local days.
    starts = [at(MONDAY + days(offset), 8) for offset in (0, 2, 4, 7)] + [at(MONDAY + days(9), 17)]
    assert course_rule_problems(starts, RULES, NY) == []


def test_sessions_closer_than_min_gap_are_reported_with_the_later_day():
    starts = mwf()
    starts[1] = at(MONDAY + days(1), 12)  # Tuesday noon: 28 h after Monday 08:00
    problems = course_rule_problems(starts, RULES, NY)
    assert rules_of(problems) == [Rule.MIN_GAP]
    assert problems[0].date == MONDAY + days(1)
    assert "28 h" in problems[0].message


def test_min_gap_is_elapsed_time_exactly():
    exactly = [at(MONDAY, 8), at(MONDAY + days(1), 8) + dt.timedelta(hours=16)]
    one_minute_short = [at(MONDAY, 8), at(MONDAY + days(1), 8) + dt.timedelta(hours=16, minutes=-1)]
    assert course_rule_problems(exactly, RULES, NY, induction=False) == []
    assert rules_of(course_rule_problems(one_minute_short, RULES, NY, induction=False)) == [Rule.MIN_GAP]


def test_min_gap_across_spring_forward_counts_the_lost_hour():
    # Saturday 08:00 EST to Sunday 24:00 wall clock is 39 h of elapsed time, not 40.
    saturday = SPRING_FORWARD - days(1)
    starts = [at(saturday, 8), at(saturday + days(2), 0)]
    problems = course_rule_problems(starts, RULES, NY, induction=False)
    assert rules_of(problems) == [Rule.MIN_GAP]
    assert "39 h" in problems[0].message


def test_two_sessions_on_one_day_are_reported_once_as_one_a_day():
    starts = [at(MONDAY, 8), at(MONDAY, 14), *[at(MONDAY + days(o), 8) for o in (2, 4, 7, 9)]]
    problems = course_rule_problems(starts, RULES, NY)
    assert rules_of(problems) == [Rule.ONE_PER_DAY]
    assert problems[0].date == MONDAY


def test_one_a_day_uses_the_clinic_day_not_the_utc_day():
    # 21:00 in New York is 01:00 UTC the next day: still the same clinic day as 08:00.
    starts = [at(MONDAY, 8), at(MONDAY, 21)]
    assert rules_of(course_rule_problems(starts, RULES, NY, induction=False)) == [Rule.ONE_PER_DAY]


def test_maintenance_rules_skip_count_and_span():
    assert course_rule_problems([at(MONDAY, 8)], RULES, NY, induction=False) == []
    assert Rule.SESSION_COUNT in rules_of(course_rule_problems([at(MONDAY, 8)], RULES, NY))


def test_problem_as_dict_names_rule_date_and_message():
    problem = course_rule_problems([at(MONDAY, 8), at(MONDAY, 14)], RULES, NY, induction=False)[0]
    assert problem.as_dict() == {"rule": Rule.ONE_PER_DAY, "date": "2031-06-02", "message": problem.message}


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


# ---------------------------------------------------------------------------------------------
# One slot


def test_slot_problems_is_empty_for_a_free_slot():
    assert (
        slot_problems(
            state(), start=at(MONDAY, 8), end=at(MONDAY, 9, 40), chair_id=1, clinician_id=10, patient_id=PATIENT
        )
        == []
    )


@pytest.mark.parametrize(
    ("setup", "start_hour", "expected"),
    [
        ({"not_before": at(MONDAY, 9)}, 8, [Rule.IN_THE_PAST]),
        ({"closures": [MONDAY]}, 8, [Rule.CLINIC_CLOSED]),
        ({}, 17, [Rule.CLINIC_HOURS, Rule.CLINICIAN_UNAVAILABLE]),
        ({"busy": [(("chair", 1), at(MONDAY, 9), at(MONDAY, 10))]}, 8, [Rule.CHAIR_UNAVAILABLE]),
        ({"busy": [(("clinician", 10), at(MONDAY, 9), at(MONDAY, 10))]}, 8, [Rule.CLINICIAN_UNAVAILABLE]),
        ({"busy": [(("patient", PATIENT), at(MONDAY, 9), at(MONDAY, 10))]}, 8, [Rule.PATIENT_UNAVAILABLE]),
    ],
    ids=["past", "closed", "hours", "chair", "clinician", "patient"],
)
def test_slot_problems_names_each_rule(setup, start_hour, expected):
    start = at(MONDAY, start_hour)
    problems = slot_problems(
        state(**setup),
        start=start,
        end=start + dt.timedelta(minutes=100),
        chair_id=1,
        clinician_id=10,
        patient_id=PATIENT,
    )
    assert rules_of(problems) == expected
    assert all(p.date == MONDAY for p in problems)


def test_slot_problems_refuses_an_unknown_chair_and_a_clinician_with_no_hours():
    problems = slot_problems(
        state(), start=at(MONDAY, 8), end=at(MONDAY, 9, 40), chair_id=99, clinician_id=99, patient_id=None
    )
    assert rules_of(problems) == [Rule.CHAIR_UNAVAILABLE, Rule.CLINICIAN_UNAVAILABLE]


def test_slot_problems_on_a_day_the_clinic_never_opens_is_clinic_closed():
    # As the planner counts such a day (find_slot): closed, not "outside the opening hours".
    saturday = MONDAY + days(5)
    problems = slot_problems(
        state(), start=at(saturday, 9), end=at(saturday, 10, 40), chair_id=1, clinician_id=10, patient_id=None
    )
    assert Rule.CLINIC_CLOSED in rules_of(problems)
    assert Rule.CLINIC_HOURS not in rules_of(problems)


# ---------------------------------------------------------------------------------------------
# The planner on a clinic held in memory


def test_plan_places_a_whole_course_and_keeps_every_rule():
    plan = plan_induction(state=state(), rules=RULES, prefs=Preferences(), first_date=MONDAY, patient_id=PATIENT)
    assert plan.feasible
    assert [s.starts_at for s in plan.sessions] == mwf()
    assert [s.sequence for s in plan.sessions] == [1, 2, 3, 4, 5, 6]
    assert course_rule_problems([s.starts_at for s in plan.sessions], RULES, NY) == []
    for session in plan.sessions:
        assert session.ends_at - session.starts_at == dt.timedelta(minutes=100)
        assert session.window_opens_at - session.ends_at == dt.timedelta(hours=24)
        assert session.window_closes_at - session.ends_at == dt.timedelta(hours=48)


def test_plan_honours_a_shorter_session_count():
    plan = plan_induction(
        state=state(), rules=RULES, prefs=Preferences(session_count=5), first_date=MONDAY, patient_id=PATIENT
    )
    assert plan.feasible
    assert len(plan.sessions) == 5


def test_plan_refuses_a_session_count_outside_the_protocol():
    plan = plan_induction(
        state=state(), rules=RULES, prefs=Preferences(session_count=8), first_date=MONDAY, patient_id=PATIENT
    )
    assert rules_of(plan.problems) == [Rule.SESSION_COUNT]
    assert plan.sessions == []


def test_plan_moves_a_session_off_a_day_the_patient_is_busy():
    # Twice a week for three weeks; the patient is busy all Wednesday of week 1: Thursday instead.
    twice = CourseRules(**{**RULES.__dict__, "weekly_cadence": (2, 2, 2), "span_min_days": 14, "span_max_days": 21})
    wednesday = MONDAY + days(2)
    plan = plan_induction(
        state=state(busy=[(("patient", PATIENT), at(wednesday, 0), at(wednesday + days(1), 0))]),
        rules=twice,
        prefs=Preferences(),
        first_date=MONDAY,
        patient_id=PATIENT,
    )
    assert plan.feasible
    assert [(s.starts_at.astimezone(NY).date() - MONDAY).days for s in plan.sessions] == [0, 3, 7, 9, 14, 16]
    assert course_rule_problems([s.starts_at for s in plan.sessions], twice, NY) == []


def test_plan_moves_a_session_past_a_busy_morning_on_the_same_day():
    wednesday = MONDAY + days(2)
    plan = plan_induction(
        state=state(busy=[(("patient", PATIENT), at(wednesday, 7), at(wednesday, 12))]),
        rules=RULES,
        prefs=Preferences(),
        first_date=MONDAY,
        patient_id=PATIENT,
    )
    assert plan.feasible
    assert plan.sessions[1].starts_at == at(wednesday, 12)
    assert plan.sessions[2].starts_at == at(MONDAY + days(4), 8)


def test_plan_names_the_rule_when_a_week_cannot_hold_its_sessions():
    # Busy all Wednesday: with a 40 h gap, Monday to Friday holds only Monday and Thursday.
    wednesday = MONDAY + days(2)
    plan = plan_induction(
        state=state(busy=[(("patient", PATIENT), at(wednesday, 0), at(wednesday + days(1), 0))]),
        rules=RULES,
        prefs=Preferences(),
        first_date=MONDAY,
        patient_id=PATIENT,
    )
    assert not plan.feasible
    assert all(s.starts_at.astimezone(NY).date() != wednesday for s in plan.sessions)
    problem = plan.problems[0]
    # The refusal names a day the clinic opens, not the weekend every week has.
    assert problem.rule in {Rule.MIN_GAP, Rule.PATIENT_UNAVAILABLE}
    assert problem.date is not None and problem.date.weekday() < 5
    assert "Only 2 of 3 sessions fit in week 1" in problem.message


def test_plan_of_a_session_longer_than_opening_hours_names_clinic_hours():
    too_long = CourseRules(**{**RULES.__dict__, "session_length": dt.timedelta(hours=11)})
    plan = plan_induction(state=state(), rules=too_long, prefs=Preferences(), first_date=MONDAY, patient_id=PATIENT)
    assert not plan.feasible
    assert plan.problems[0].rule == Rule.CLINIC_HOURS
    assert plan.problems[0].date is not None and plan.problems[0].date.weekday() < 5


def test_find_slot_counts_why_each_start_failed():
    found, reasons = find_slot(
        state=state(busy=[(("chair", c), at(MONDAY, 8), at(MONDAY, 18)) for c in CHAIRS]),
        day=MONDAY,
        rules=RULES,
        prefs=Preferences(),
        patient_id=PATIENT,
        not_before=None,
    )
    assert found is None
    assert set(reasons) == {Rule.CHAIR_UNAVAILABLE}


def test_find_slot_reports_a_clinic_opening_at_a_nonexistent_time():
    sunday_hours = {6: [(dt.time(2, 30), dt.time(12))]}
    found, reasons = find_slot(
        state=state(clinic_hours=sunday_hours),
        day=SPRING_FORWARD,
        rules=RULES,
        prefs=Preferences(),
        patient_id=None,
        not_before=None,
    )
    assert found is None
    assert reasons[Rule.NONEXISTENT_LOCAL_TIME] == 1


def test_find_slot_prefers_a_start_whose_window_has_a_therapist_free():
    # The therapist works Wednesdays 10:00-11:00 only: a Monday session's window (24-48 h after
    # it ends) holds that whole hour only if the session ends at 11:00 or later.
    found, _ = find_slot(
        state=state(therapist_hours={2: [(dt.time(10), dt.time(11))]}),
        day=MONDAY,
        rules=RULES,
        prefs=Preferences(),
        patient_id=PATIENT,
        not_before=None,
    )
    assert found is not None
    assert found[0] == at(MONDAY, 9, 30)


def test_find_slot_falls_back_on_the_earliest_start_when_no_therapist_is_ever_free():
    found, _ = find_slot(
        state=state(therapist_hours={}),
        day=MONDAY,
        rules=RULES,
        prefs=Preferences(),
        patient_id=PATIENT,
        not_before=None,
    )
    assert found is not None
    assert found[0] == at(MONDAY, 8)


def test_therapist_free_in_needs_a_whole_unbooked_appointment():
    tuesday = MONDAY + days(1)
    hours = {1: [(dt.time(9), dt.time(11))]}
    free = state(therapist_hours=hours)
    assert therapist_free_in(free, at(tuesday, 0), at(tuesday, 23))
    booked = state(
        therapist_hours=hours,
        busy=[(("therapist", THERAPIST), at(tuesday, 9, 30), at(tuesday, 10, 30))],
    )
    assert not therapist_free_in(booked, at(tuesday, 0), at(tuesday, 23))
    assert not therapist_free_in(free, at(tuesday, 10, 30), at(tuesday, 23))
