"""A course's life cycle through the API: make-up sessions, maintenance after induction, the warning
when cancellations leave a course below its induction minimum, and the course's progress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from measures.services import measure_record
from sessions.models import TreatmentSession
from sessions.services.booking import course_plan_and_book
from sessions.services.lifecycle import session_cancel, session_hold
from sessions.services.reschedule import MSG_HELD_NOT_MOVED
from tests import factories
from tests.api.conftest import World
from tests.conftest import at

pytestmark = pytest.mark.django_db


def _held(world: World) -> TreatmentSession:
    session_hold(session_id=world.session_a.pk, reason="BP 170/104 before dosing")
    return world.session_a


def _make_up_day(world: World) -> dt.date:
    """The Monday after the course's last induction session."""
    last = world.course_a.sessions.order_by("-sequence").first()
    assert last is not None
    return last.local_date + dt.timedelta(days=(7 - last.local_date.weekday()))


def test_a_held_session_cannot_be_moved_and_the_answer_says_to_book_a_make_up(world: World):
    held = _held(world)
    answer = world.client("front_desk").post(
        f"/api/v1/sessions/{held.pk}/reschedule/",
        {"starts_at": at(_make_up_day(world), 10).isoformat()},
        format="json",
    )
    assert answer.status_code == 409
    body = answer.json()
    assert body["rule"] == "session_not_scheduled"
    assert body["message"] == MSG_HELD_NOT_MOVED.format(status="held (not dosed)")
    assert body["details"] == {"instead": "make_up"}


def test_the_front_desk_books_a_make_up_for_a_held_session(world: World):
    held = _held(world)
    day = _make_up_day(world)
    answer = world.client("front_desk").post(
        f"/api/v1/sessions/{held.pk}/make-up/", {"starts_at": at(day, 10).isoformat()}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["make_up_for"], body["status"], body["phase"]) == (held.pk, "scheduled", "induction")
    assert body["course"] == world.course_a.pk and body["local_date"] == day.isoformat()
    held.refresh_from_db()
    assert held.status == TreatmentSession.Status.HELD

    again = world.client("clinician").post(
        f"/api/v1/sessions/{held.pk}/make-up/",
        {"starts_at": at(day + dt.timedelta(days=2), 10).isoformat()},
        format="json",
    )
    assert again.status_code == 409 and again.json()["rule"] == "make_up_exists"


def test_a_make_up_of_a_scheduled_session_names_its_rule(world: World):
    answer = world.client("administrator").post(
        f"/api/v1/sessions/{world.session_a.pk}/make-up/",
        {"starts_at": at(_make_up_day(world), 10).isoformat()},
        format="json",
    )
    assert answer.status_code == 409
    assert answer.json()["rule"] == "make_up_not_missed"


def test_a_maintenance_series_before_the_induction_ends_is_refused(world: World):
    answer = world.client("front_desk").post(
        f"/api/v1/courses/{world.course_a.pk}/maintenance/",
        {
            "first_starts_at": at(world.session_a.local_date + dt.timedelta(days=1), 10).isoformat(),
            "chair": world.clinic.chairs[1].pk,
            "clinician": world.clinic.clinicians[1].pk,
            "count": 1,
        },
        format="json",
    )
    assert answer.status_code == 409
    assert (answer.json()["rule"], answer.json()["field"]) == ("maintenance_before_induction", "first_starts_at")


def test_cancelling_below_the_minimum_warns_marks_the_course_and_shows_it(world: World):
    sessions = list(world.course_a.sessions.order_by("sequence"))
    minimum = world.course_a.protocol.induction_sessions_min
    client = world.client("front_desk")
    extra = len(sessions) - minimum
    for session in sessions[len(sessions) - extra :]:
        kept = client.post(f"/api/v1/sessions/{session.pk}/cancel/", {"reason": "Away"}, format="json")
        assert kept.status_code == 200 and kept.json()["course_warning"] is None

    below = client.post(f"/api/v1/sessions/{sessions[1].pk}/cancel/", {"reason": "Away"}, format="json")

    assert below.status_code == 200
    warning = below.json()["course_warning"]
    assert warning["rule"] == "induction_below_minimum"
    assert (warning["course"], warning["live"], warning["minimum"]) == (world.course_a.pk, minimum - 1, minimum)
    assert "make-up" in warning["message"]
    course = client.get(f"/api/v1/courses/{world.course_a.pk}/").json()
    assert course["induction_incomplete_at"] is not None
    assert course["induction_incomplete"] == warning
    listed = client.get("/api/v1/courses/", {"status": "planned"}).json()["results"]
    assert next(c for c in listed if c["id"] == world.course_a.pk)["induction_incomplete"] == warning


def test_a_course_reads_its_progress_and_a_clinician_its_scores(world: World):
    sessions = list(world.course_a.sessions.order_by("sequence"))
    session_hold(session_id=sessions[0].pk, reason="BP 170/104")
    session_cancel(session_id=sessions[1].pk)
    start = timezone.now() - dt.timedelta(days=2)
    for offset, answers in ((0, [3] * 9), (1, [1] * 8 + [0])):
        measure_record(
            patient=world.patient_a,
            course=world.course_a,
            instrument="phq9",
            answers=answers,
            entered_by=world.users["clinician"],
            answered_at=start + dt.timedelta(days=offset),
        )

    progress = world.client("clinician").get(f"/api/v1/courses/{world.course_a.pk}/").json()["progress"]

    scheduled = len(sessions) - 2
    assert {k: v for k, v in progress.items() if k != "scores"} == {
        "done": 0,
        "held": 1,
        "missed": 0,
        "cancelled": 1,
        "scheduled": scheduled,
        "integration_attended": 0,
    }
    (phq9,) = progress["scores"]
    assert (phq9["instrument"], phq9["baseline"]["total"], phq9["latest"]["total"]) == ("phq9", 27, 8)
    assert phq9["change"] == -19
    # The front desk reads no outcome measures, and a list reads no scores (one query for all).
    desk = world.client("front_desk").get(f"/api/v1/courses/{world.course_a.pk}/").json()["progress"]
    assert desk["scores"] is None and desk["held"] == 1
    listed = world.client("clinician").get("/api/v1/courses/").json()["results"]
    assert next(c for c in listed if c["id"] == world.course_a.pk)["progress"]["scores"] is None


def test_the_course_list_reads_progress_and_marks_in_as_many_queries_for_more_courses(world: World, monday):
    client = world.client("front_desk")

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/v1/courses/")
        assert answer.status_code == 200
        return len(queries)

    two = list_queries()
    for name in ("Casey", "Drew"):
        patient = factories.screened_patient(clinician=world.clinic.clinicians[0], first_name=name)
        course = course_plan_and_book(
            patient=patient, protocol=world.clinic.protocol, first_date=monday + dt.timedelta(days=21)
        )
        for session in course.sessions.order_by("-sequence")[:3]:
            session_cancel(session_id=session.pk)

    assert list_queries() == two
    listed = client.get("/api/v1/courses/").json()["results"]
    assert len(listed) == 4
    assert sum(1 for c in listed if c["induction_incomplete"] is not None) == 2
