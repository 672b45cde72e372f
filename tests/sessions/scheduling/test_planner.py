"""The planner on a clinic held in memory."""

from __future__ import annotations

import datetime as dt

from sessions.scheduling import (
    CourseRules,
    Preferences,
    Rule,
    course_rule_problems,
    plan_induction,
)
from tests.sessions.scheduling.clinic_data import (
    MONDAY,
    NY,
    PATIENT,
    RULES,
    at,
    days,
    mwf,
    rules_of,
    state,
)

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
