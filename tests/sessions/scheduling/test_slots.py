"""One session's slot: why it fails, the search for one, a therapist free in a window."""

from __future__ import annotations

import datetime as dt

import pytest

from sessions.scheduling import (
    Preferences,
    Rule,
    find_slot,
    slot_problems,
    therapist_free_in,
)
from tests.sessions.scheduling.clinic_data import (
    CHAIRS,
    MONDAY,
    PATIENT,
    RULES,
    SPRING_FORWARD,
    THERAPIST,
    at,
    days,
    rules_of,
    state,
)

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
