"""Planning a whole induction course against the clinic as the database holds it."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import ClosureDay, TimeOff
from courses.models import Course
from ketaminecare.errors import RuleViolation
from ketaminecare.roles import Role
from sessions.models import IntegrationWindow, TreatmentSession
from sessions.scheduling import Preferences, Rule, course_rule_problems
from sessions.selectors import clinic_zone
from sessions.services.booking import course_plan_and_book
from sessions.services.common import protocol_rules
from sessions.services.proposal import course_propose, proposal_error
from tests import factories
from tests.conftest import at

pytestmark = pytest.mark.django_db


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def twice_a_week() -> object:
    """Twice a week for three weeks (Abdallah et al.): 14 to 21 days first to last."""
    return factories.ProtocolFactory(
        name="IV ketamine 2x/week", weekly_cadence=[2, 2, 2], induction_span_min_days=14, induction_span_max_days=21
    )


def fill_day(day: dt.date, pairs: list[tuple[Any, Any]], protocol: object) -> None:
    """Other patients' sessions back to back from 08:00 to 18:00 for each (chair, clinician)."""
    for chair, clinician in pairs:
        for block in range(6):
            factories.TreatmentSessionFactory(
                course__protocol=protocol,
                chair=chair,
                clinician=clinician,
                starts_at=at(day, 8) + dt.timedelta(minutes=100 * block),
            )


def local_days(plan) -> list[dt.date]:
    return [s.starts_at.astimezone(clinic_zone()).date() for s in plan.sessions]


def assert_keeps_course_rules(plan, protocol) -> None:
    rules = protocol_rules(protocol)
    starts = [s.starts_at for s in plan.sessions]
    assert rules.sessions_min <= len(starts) <= rules.sessions_max
    assert course_rule_problems(starts, rules, clinic_zone()) == []
    assert len(set(local_days(plan))) == len(starts)
    assert all(b - a >= rules.min_gap for a, b in itertools.pairwise(starts))


def row_counts() -> tuple[int, int, int]:
    return Course.objects.count(), TreatmentSession.objects.count(), IntegrationWindow.objects.count()


# ---------------------------------------------------------------------------------------------
# A busy clinic


def test_propose_skips_a_day_whose_chairs_are_full(clinic, patient, monday, now):
    protocol = twice_a_week()
    wednesday = monday + days(2)
    # Other patients take both chairs all Wednesday, with clinicians the plan does not need.
    others = [factories.StaffMemberFactory(role=Role.CLINICIAN) for _ in clinic.chairs]
    fill_day(wednesday, list(zip(clinic.chairs, others, strict=True)), protocol)

    proposal = course_propose(patient=patient, protocol=protocol, first_date=monday, now=now)

    assert proposal.feasible
    assert wednesday not in local_days(proposal.plan)
    assert [(d - monday).days for d in local_days(proposal.plan)] == [0, 3, 7, 9, 14, 16]
    assert_keeps_course_rules(proposal.plan, protocol)


def test_propose_skips_a_day_whose_clinicians_are_all_busy(db, monday, now):
    small = factories.clinic(chairs=4, clinicians=2)
    patient = factories.screened_patient(clinician=small.clinicians[0])
    protocol = twice_a_week()
    wednesday = monday + days(2)
    # Two chairs stay free, but both clinicians give other patients' sessions all day.
    fill_day(wednesday, list(zip(small.chairs[:2], small.clinicians, strict=True)), protocol)

    proposal = course_propose(patient=patient, protocol=protocol, first_date=monday, now=now)

    assert proposal.feasible
    assert wednesday not in local_days(proposal.plan)
    assert [(d - monday).days for d in local_days(proposal.plan)] == [0, 3, 7, 9, 14, 16]
    assert_keeps_course_rules(proposal.plan, protocol)


def test_propose_skips_a_day_both_clinicians_are_off(clinic, patient, monday, now):
    protocol = twice_a_week()
    wednesday = monday + days(2)
    for clinician in clinic.clinicians:
        TimeOff.objects.create(staff=clinician, starts_at=at(wednesday, 0), ends_at=at(wednesday + days(1), 0))

    proposal = course_propose(patient=patient, protocol=protocol, first_date=monday, now=now)

    assert proposal.feasible
    assert wednesday not in local_days(proposal.plan)
    assert_keeps_course_rules(proposal.plan, protocol)


def test_propose_takes_the_time_left_on_a_busy_morning(clinic, patient, monday, now):
    wednesday = monday + days(2)
    others = [factories.StaffMemberFactory(role=Role.CLINICIAN) for _ in clinic.chairs]
    for chair, clinician in zip(clinic.chairs, others, strict=True):
        for block in range(2):
            factories.TreatmentSessionFactory(
                course__protocol=clinic.protocol,
                chair=chair,
                clinician=clinician,
                starts_at=at(wednesday, 8) + dt.timedelta(minutes=100 * block),
            )

    proposal = course_propose(patient=patient, protocol=clinic.protocol, first_date=monday, now=now)

    assert proposal.feasible
    # The busy morning ends at 11:20; the next start on the 15-minute grid is 11:30.
    assert proposal.plan.sessions[1].starts_at == at(wednesday, 11, 30)
    assert_keeps_course_rules(proposal.plan, clinic.protocol)


def test_propose_writes_nothing(clinic, patient, monday, now):
    before = row_counts()
    proposal = course_propose(patient=patient, protocol=clinic.protocol, first_date=monday, now=now)
    assert proposal.feasible and len(proposal.plan.sessions) == 6
    assert row_counts() == before


# ---------------------------------------------------------------------------------------------
# Preferences


def test_propose_honours_preferred_weekdays_and_time_of_day(clinic, patient, monday, now):
    protocol = twice_a_week()
    prefs = Preferences(weekdays=frozenset({1, 3}), earliest=dt.time(13), latest=dt.time(15))

    proposal = course_propose(patient=patient, protocol=protocol, first_date=monday, preferences=prefs, now=now)

    assert proposal.feasible
    local = [s.starts_at.astimezone(clinic_zone()) for s in proposal.plan.sessions]
    assert {s.weekday() for s in local} == {1, 3}
    assert all(dt.time(13) <= s.time() <= dt.time(15) for s in local)
    assert_keeps_course_rules(proposal.plan, protocol)


def test_propose_honours_preferred_chair_and_clinician(clinic, patient, monday, now):
    chair, clinician = clinic.chairs[1], clinic.clinicians[1]
    prefs = Preferences(chair_id=chair.pk, clinician_id=clinician.pk)

    proposal = course_propose(patient=patient, protocol=clinic.protocol, first_date=monday, preferences=prefs, now=now)

    assert proposal.feasible
    assert {s.chair_id for s in proposal.plan.sessions} == {chair.pk}
    assert {s.clinician_id for s in proposal.plan.sessions} == {clinician.pk}


def test_propose_uses_another_chair_when_the_preferred_one_is_taken(clinic, patient, monday, now):
    preferred = clinic.chairs[1]
    other_clinician = factories.StaffMemberFactory(role=Role.CLINICIAN)
    fill_day(monday, [(preferred, other_clinician)], clinic.protocol)

    proposal = course_propose(
        patient=patient,
        protocol=clinic.protocol,
        first_date=monday,
        preferences=Preferences(chair_id=preferred.pk),
        now=now,
    )

    assert proposal.feasible
    assert proposal.plan.sessions[0].chair_id == clinic.chairs[0].pk
    assert {s.chair_id for s in proposal.plan.sessions[1:]} == {preferred.pk}


def test_propose_prefers_a_time_whose_window_has_a_therapist_free(db, monday, now):
    small = factories.clinic(therapists=0)
    patient = factories.screened_patient(clinician=small.clinicians[0])
    # The only therapist works Wednesdays 10:00-11:00: a Monday session must end by 11:00 at the
    # earliest for its window (24-48 h after the end) to hold that hour.
    factories.staff(Role.THERAPIST, weekdays=range(2, 3), starts=dt.time(10), ends=dt.time(11))

    proposal = course_propose(patient=patient, protocol=small.protocol, first_date=monday, now=now)

    first = proposal.plan.sessions[0]
    assert first.starts_at == at(monday, 9, 30)
    assert first.therapist_free_in_window
    assert first.window_closes_at >= at(monday + days(2), 11)


def test_propose_falls_back_on_the_earliest_time_when_the_therapist_is_off(db, monday, now):
    small = factories.clinic(therapists=0)
    patient = factories.screened_patient(clinician=small.clinicians[0])
    therapist = factories.staff(Role.THERAPIST, weekdays=range(2, 3), starts=dt.time(10), ends=dt.time(11))
    wednesday = monday + days(2)
    TimeOff.objects.create(staff=therapist, starts_at=at(wednesday, 10), ends_at=at(wednesday, 11))

    proposal = course_propose(patient=patient, protocol=small.protocol, first_date=monday, now=now)

    first = proposal.plan.sessions[0]
    assert first.starts_at == at(monday, 8)
    assert not first.therapist_free_in_window


# ---------------------------------------------------------------------------------------------
# When nothing fits


def test_closure_week_names_the_rule_and_the_date_and_offers_the_next_monday(clinic, patient, monday, now):
    for offset in range(5):
        ClosureDay.objects.create(date=monday + days(offset), reason="Renovation")

    proposal = course_propose(patient=patient, protocol=clinic.protocol, first_date=monday, now=now)

    assert not proposal.feasible
    problem = proposal.plan.problems[0]
    assert problem.rule == Rule.CLINIC_CLOSED
    assert problem.date == monday + days(4)
    assert proposal.next_feasible is not None
    assert proposal.next_feasible.first_date == monday + days(7)
    assert proposal.next_feasible.feasible

    error = proposal_error(proposal)
    assert isinstance(error, RuleViolation)
    assert (error.rule, error.field) == (Rule.CLINIC_CLOSED, "first_date")
    assert error.details["next_feasible_first_date"] == (monday + days(7)).isoformat()
    assert error.details["problems"][0]["date"] == (monday + days(4)).isoformat()


def test_plan_and_book_refuses_a_closure_week_and_writes_nothing(clinic, patient, monday, now):
    for offset in range(5):
        ClosureDay.objects.create(date=monday + days(offset))
    before = row_counts()

    with pytest.raises(RuleViolation) as caught:
        course_plan_and_book(patient=patient, protocol=clinic.protocol, first_date=monday, now=now)

    assert caught.value.rule == Rule.CLINIC_CLOSED
    assert caught.value.details["next_feasible_first_date"] == (monday + days(7)).isoformat()
    assert row_counts() == before


def test_full_preferred_day_names_the_chairs_and_offers_the_next_feasible_date(clinic, patient, monday, now):
    protocol = twice_a_week()
    wednesday = monday + days(2)
    others = [factories.StaffMemberFactory(role=Role.CLINICIAN) for _ in clinic.chairs]
    fill_day(wednesday, list(zip(clinic.chairs, others, strict=True)), protocol)

    proposal = course_propose(
        patient=patient,
        protocol=protocol,
        first_date=monday,
        preferences=Preferences(weekdays=frozenset({0, 2})),
        now=now,
    )

    assert not proposal.feasible
    assert (proposal.plan.problems[0].rule, proposal.plan.problems[0].date) == (Rule.CHAIR_UNAVAILABLE, wednesday)
    assert proposal.next_feasible is not None
    assert proposal.next_feasible.first_date == monday + days(7)
    assert [(d - monday).days for d in local_days(proposal.next_feasible)] == [7, 9, 14, 16, 21, 23]
    assert_keeps_course_rules(proposal.next_feasible, protocol)


def test_clinic_closed_on_the_only_preferred_weekday_names_the_rule_and_offers_no_date(clinic, patient, monday, now):
    saturday = monday + days(5)

    proposal = course_propose(
        patient=patient,
        protocol=clinic.protocol,
        first_date=monday,
        preferences=Preferences(weekdays=frozenset({saturday.weekday()})),
        now=now,
    )

    assert not proposal.feasible
    assert (proposal.plan.problems[0].rule, proposal.plan.problems[0].date) == (Rule.CLINIC_CLOSED, saturday)
    assert proposal.next_feasible is None
    assert proposal_error(proposal).details["next_feasible_first_date"] is None


def test_session_longer_than_opening_hours_names_clinic_hours(clinic, patient, monday, now):
    marathon = factories.ProtocolFactory(infusion_minutes=600, monitoring_minutes=60)

    proposal = course_propose(patient=patient, protocol=marathon, first_date=monday, now=now)

    assert not proposal.feasible
    assert proposal.plan.problems[0].rule == Rule.CLINIC_HOURS
    assert proposal.next_feasible is None


def test_propose_asked_for_too_many_sessions_names_the_count(clinic, patient, monday, now):
    proposal = course_propose(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences(session_count=8), now=now
    )
    assert not proposal.feasible
    assert proposal.plan.problems[0].rule == Rule.SESSION_COUNT
    assert proposal.next_feasible is None


# ---------------------------------------------------------------------------------------------
# The cost of planning


def _propose_query_count(patient, protocol, monday, now) -> int:
    with CaptureQueriesContext(connection) as queries:
        proposal = course_propose(patient=patient, protocol=protocol, first_date=monday, now=now)
    assert proposal.plan.sessions
    return len(queries.captured_queries)


def test_propose_query_count_is_bounded_and_independent_of_clinic_size(clinic, patient, monday, now):
    small = _propose_query_count(patient, clinic.protocol, monday, now)

    # Grow the clinic: more chairs and staff, and a busy calendar over the whole search horizon.
    big = factories.clinic(chairs=8, clinicians=8, therapists=3)
    courses = factories.CourseFactory.create_batch(8, protocol=big.protocol)
    sessions = []
    for index, (course, chair, clinician) in enumerate(zip(courses, big.chairs, big.clinicians, strict=True)):
        for day_number in range(70):
            day = monday + days(day_number)
            if day.weekday() < 5:
                sessions.append(
                    factories.TreatmentSessionFactory.build(
                        course=course,
                        patient=course.patient,
                        chair=chair,
                        clinician=clinician,
                        sequence=day_number + 1,
                        starts_at=at(day, 8 + index % 4 * 2),
                    )
                )
    TreatmentSession.objects.bulk_create(sessions)
    for offset, member in enumerate(big.clinicians + big.therapists):
        TimeOff.objects.create(
            staff=member, starts_at=at(monday + days(offset), 12), ends_at=at(monday + days(offset), 13)
        )
    ClosureDay.objects.create(date=monday + days(30))
    assert TreatmentSession.objects.count() >= 400

    large = _propose_query_count(patient, clinic.protocol, monday, now)

    assert large == small
    assert small <= 10
