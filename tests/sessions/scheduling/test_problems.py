"""Course rules on pure functions: counts, spans, gaps, one a day."""

from __future__ import annotations

import datetime as dt

import pytest

from sessions.scheduling import (
    Rule,
    course_rule_problems,
)
from tests.sessions.scheduling.clinic_data import (
    MONDAY,
    NY,
    RULES,
    SPRING_FORWARD,
    at,
    days,
    mwf,
    rules_of,
)

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
