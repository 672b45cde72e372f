"""The calendar endpoint: events of every kind, wall-clock times with offsets, roles, bad ranges."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import ClosureDay
from ketaminecare.roles import Role
from sessions.api.calendar_serializers import CalendarEventSerializer, CalendarSerializer
from sessions.models import TreatmentSession
from sessions.services.booking import session_reschedule
from sessions.services.lifecycle import session_cancel, session_hold
from tests import factories
from tests.conftest import at
from tests.sessions.calendar_data import (
    appointment_add,
    bulk_sessions,
    client_for,
    patient_login,
    session_add,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/calendar/"


def calendar(client: Any, start: dt.datetime, end: dt.datetime, **params: Any) -> dict[str, Any]:
    response = client.get(URL, {"start": start.isoformat(), "end": end.isoformat(), **params})
    assert response.status_code == 200, response.content
    return response.json()


def by_type(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in body["events"] if e["type"] == kind]


@pytest.fixture
def front_desk(clinic: factories.Clinic) -> Any:
    return client_for(clinic.front_desk.user)


def test_calendar_keeps_0900_local_across_the_end_of_daylight_saving(clinic: factories.Clinic, patient: Any) -> None:
    # 2031-11-02 is the Sunday on which New York falls back from -04:00 to -05:00.
    friday = session_add(
        patient=patient,
        protocol=clinic.protocol,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=at(dt.date(2031, 10, 31), 9),
    )
    monday = session_add(
        patient=patient,
        protocol=clinic.protocol,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=at(dt.date(2031, 11, 3), 9),
    )
    closure = ClosureDay.objects.create(date=dt.date(2031, 11, 2), reason="Staff training")

    body = calendar(client_for(clinic.front_desk.user), at(dt.date(2031, 10, 30), 0), at(dt.date(2031, 11, 5), 0))

    sessions = by_type(body, "session")
    assert [(s["id"], s["start"], s["end"]) for s in sessions] == [
        (friday.pk, "2031-10-31T09:00:00-04:00", "2031-10-31T10:40:00-04:00"),
        (monday.pk, "2031-11-03T09:00:00-05:00", "2031-11-03T10:40:00-05:00"),
    ]
    # The window is elapsed time: 48 hours after Friday 10:40 EDT is Sunday 09:40 EST.
    window = next(w for w in by_type(body, "integration_window") if w["details"]["session_id"] == friday.pk)
    assert (window["start"], window["end"]) == ("2031-11-01T10:40:00-04:00", "2031-11-02T09:40:00-05:00")
    # The closure is the whole local day: 25 hours that day.
    [closed] = by_type(body, "closure")
    assert closed["id"] == closure.pk and closed["all_day"] is True
    assert (closed["start"], closed["end"]) == ("2031-11-02T00:00:00-04:00", "2031-11-03T00:00:00-05:00")
    assert body["time_zone"] == "America/New_York"
    assert body["count"] == len(body["events"]) == 5
    starts = [dt.datetime.fromisoformat(e["start"]) for e in body["events"]]
    assert starts == sorted(starts)


def test_calendar_shows_a_moved_session_at_its_new_time(clinic: factories.Clinic, patient: Any, now: Any) -> None:
    monday = dt.date(2031, 6, 2)
    session = session_add(
        patient=patient,
        protocol=clinic.protocol,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=at(monday, 10),
    )
    session_reschedule(session_id=session.pk, starts_at=at(monday + dt.timedelta(days=1), 14), now=now)

    body = calendar(client_for(clinic.front_desk.user), at(monday, 0), at(monday + dt.timedelta(days=7), 0))

    [moved] = by_type(body, "session")
    assert moved["id"] == session.pk
    assert moved["start"] == "2031-06-03T14:00:00-04:00"
    assert moved["revision"] == 1
    [window] = by_type(body, "integration_window")
    assert window["start"] == "2031-06-04T15:40:00-04:00"


def test_calendar_query_count_is_the_same_for_10_and_1000_sessions(clinic: factories.Clinic) -> None:
    client = client_for(clinic.front_desk.user)
    first = dt.date(2031, 6, 2)
    start, end = at(first, 0), at(first + dt.timedelta(days=90), 0)
    ClosureDay.objects.create(date=first + dt.timedelta(days=30), reason="Holiday")
    common = {
        "chair": clinic.chairs[0],
        "clinician": clinic.clinicians[0],
        "therapist": clinic.therapists[0],
        "protocol": clinic.protocol,
    }
    bulk_sessions(count=10, first_day=first, **common)
    with CaptureQueriesContext(connection) as small:
        few = calendar(client, start, end)
    bulk_sessions(count=990, first_day=first + dt.timedelta(days=1), **common)
    with CaptureQueriesContext(connection) as large:
        many = calendar(client, start, end)

    assert len(by_type(few, "session")) + len(by_type(few, "maintenance_session")) == 10
    assert len(by_type(many, "session")) + len(by_type(many, "maintenance_session")) == 1000
    assert len(by_type(many, "integration_window")) == 1000
    assert len(by_type(many, "integration_appointment")) == 500
    assert len(by_type(many, "closure")) == 1
    assert len(large.captured_queries) == len(small.captured_queries)
    # The role (1), then sessions, windows, appointments and closures (4), then the audit row
    # (the actor's roles and one INSERT naming every patient shown): nothing per event.
    assert len(large.captured_queries) == 7


def test_patient_sees_only_their_own_rows_and_never_another_patients(clinic: factories.Clinic) -> None:
    monday = dt.date(2031, 6, 2)
    alice = factories.screened_patient(clinician=clinic.clinicians[0], first_name="Alice")
    bob = factories.screened_patient(clinician=clinic.clinicians[0], first_name="Bob")
    mine = session_add(
        patient=alice, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    theirs = session_add(
        patient=bob, protocol=clinic.protocol, chair=clinic.chairs[1], clinician=clinic.clinicians[1],
        starts_at=at(monday, 9),
    )  # fmt: skip
    appointment_add(mine, clinic.therapists[0])
    appointment_add(theirs, clinic.therapists[0], after_opening=3)
    ClosureDay.objects.create(date=monday + dt.timedelta(days=4), reason="Holiday")
    client = client_for(patient_login(alice))
    start, end = at(monday, 0), at(monday + dt.timedelta(days=7), 0)

    body = calendar(client, start, end)

    assert {e["type"] for e in body["events"]} == {
        "session",
        "integration_window",
        "integration_appointment",
        "closure",
    }
    assert {e["patient"]["id"] for e in body["events"] if e["patient"]} == {alice.pk}
    assert "Bob" not in str(body)
    assert all(e["title"] in ("Clinic appointment", "Follow-up window", "Follow-up appointment", "Clinic closed")
               for e in body["events"])  # fmt: skip
    # Naming another patient answers nothing at all, and filters cannot widen the view.
    assert calendar(client, start, end, patient=bob.pk)["events"] == []
    assert calendar(client, start, end, patient=f"{alice.pk},{bob.pk}")["count"] == 4
    widened = calendar(client, start, end, chair=clinic.chairs[1].pk, clinician=clinic.clinicians[1].pk)
    assert [e["type"] for e in widened["events"]] == ["closure"]
    assert calendar(client, start, end, therapist=clinic.therapists[0].pk)["count"] == 2  # own appointment + closure
    refused = client.get(URL, {"start": start.isoformat(), "end": end.isoformat(), "include_cancelled": "true"})
    assert refused.status_code == 403
    assert refused.json()["field"] == "include_cancelled"


def test_therapist_sees_sessions_times_but_no_clinical_details(clinic: factories.Clinic, patient: Any) -> None:
    monday = dt.date(2031, 6, 2)
    held = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    other = factories.screened_patient(clinician=clinic.clinicians[0])
    booked = session_add(
        patient=other, protocol=clinic.protocol, chair=clinic.chairs[1], clinician=clinic.clinicians[1],
        starts_at=at(monday, 9),
    )  # fmt: skip
    appointment_add(booked, clinic.therapists[0])
    session_hold(session_id=held.pk, reason="Blood pressure 168/102 before dosing")
    start, end = at(monday, 0), at(monday + dt.timedelta(days=7), 0)

    therapist = calendar(client_for(clinic.therapists[0].user), start, end)
    clinician = calendar(client_for(clinic.clinicians[0].user), start, end)

    sessions = by_type(therapist, "session")
    assert {s["id"] for s in sessions} == {held.pk, booked.pk}
    assert all(s["details"] is None for s in sessions)
    assert all(s["start"] == "2031-06-02T09:00:00-04:00" for s in sessions)
    assert "Blood pressure" not in str(therapist)
    assert len(by_type(therapist, "integration_appointment")) == 1
    assert len(by_type(therapist, "integration_window")) == 1  # the held session's window is cancelled
    full = {s["id"]: s["details"] for s in by_type(clinician, "session")}
    assert full[held.pk]["hold_reason"] == "Blood pressure 168/102 before dosing"
    # The front desk books around a held session but never reads why it was held.
    front_desk = calendar(client_for(clinic.front_desk.user), start, end)
    desk = {s["id"]: s["details"] for s in by_type(front_desk, "session")}
    assert desk[held.pk] == {"course_id": held.course_id, "sequence": held.sequence, "ride_home_confirmed": False}
    assert "Blood pressure" not in str(front_desk)


def test_cancelled_items_are_left_out_unless_staff_ask(clinic: factories.Clinic, patient: Any, front_desk: Any) -> None:
    monday = dt.date(2031, 6, 2)
    session = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    appointment_add(session, clinic.therapists[0])
    session_cancel(session_id=session.pk, reason="Patient asked")
    start, end = at(monday, 0), at(monday + dt.timedelta(days=7), 0)

    assert calendar(front_desk, start, end)["events"] == []
    everything = calendar(front_desk, start, end, include_cancelled="true")
    statuses = {e["type"]: e["status"] for e in everything["events"]}
    assert statuses == {
        "session": "cancelled",
        "integration_window": "cancelled",
        "integration_appointment": "cancelled",
    }
    assert {e["revision"] for e in everything["events"]} == {1}


def test_filters_by_chair_clinician_therapist_patient_and_type(
    clinic: factories.Clinic, patient: Any, front_desk: Any
) -> None:
    monday = dt.date(2031, 6, 2)
    other = factories.screened_patient(clinician=clinic.clinicians[0])
    first = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    second = session_add(
        patient=other, protocol=clinic.protocol, chair=clinic.chairs[1], clinician=clinic.clinicians[1],
        starts_at=at(monday, 9), phase=TreatmentSession.Phase.MAINTENANCE,
    )  # fmt: skip
    appointment = appointment_add(second, clinic.therapists[0])
    closure = ClosureDay.objects.create(date=monday + dt.timedelta(days=4))
    start, end = at(monday, 0), at(monday + dt.timedelta(days=7), 0)

    def ids(**params: Any) -> set[tuple[str, int]]:
        return {(e["type"], e["id"]) for e in calendar(front_desk, start, end, **params)["events"]}

    assert ids(chair=clinic.chairs[0].pk) == {("session", first.pk), ("closure", closure.pk)}
    assert ids(clinician=clinic.clinicians[1].pk) == {("maintenance_session", second.pk), ("closure", closure.pk)}
    assert ids(therapist=clinic.therapists[0].pk) == {
        ("integration_appointment", appointment.pk),
        ("closure", closure.pk),
    }
    assert ids(patient=other.pk) == {
        ("maintenance_session", second.pk),
        ("integration_window", second.integration_window.pk),
        ("integration_appointment", appointment.pk),
        ("closure", closure.pk),
    }
    assert ids(type="maintenance_session,closure") == {("maintenance_session", second.pk), ("closure", closure.pk)}
    both = front_desk.get(
        URL, {"start": start.isoformat(), "end": end.isoformat(), "type": ["session", "integration_appointment"]}
    )
    assert {(e["type"], e["id"]) for e in both.json()["events"]} == {
        ("session", first.pk),
        ("integration_appointment", appointment.pk),
    }
    assert ids(chair=f"{clinic.chairs[0].pk},{clinic.chairs[1].pk}", type="session,maintenance_session") == {
        ("session", first.pk),
        ("maintenance_session", second.pk),
    }


def test_events_carry_links_names_and_the_documented_shape(
    clinic: factories.Clinic, patient: Any, front_desk: Any, settings: Any
) -> None:
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    front_desk.defaults["HTTP_HOST"] = "clinic.example.org"
    monday = dt.date(2031, 6, 2)
    session = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    appointment = appointment_add(session, clinic.therapists[0])
    closure = ClosureDay.objects.create(date=monday + dt.timedelta(days=4))

    body = calendar(front_desk, at(monday, 0), at(monday + dt.timedelta(days=7), 0))

    urls = {e["type"]: e["url"] for e in body["events"]}
    assert urls == {
        "session": f"http://clinic.example.org/api/v1/sessions/{session.pk}/",
        "integration_window": f"http://clinic.example.org/api/v1/integration-windows/{session.integration_window.pk}/",
        "integration_appointment": f"http://clinic.example.org/api/v1/integration-appointments/{appointment.pk}/",
        "closure": f"http://clinic.example.org/api/v1/closures/{closure.pk}/",
    }
    [event] = by_type(body, "session")
    assert event["chair"] == {"id": clinic.chairs[0].pk, "name": clinic.chairs[0].name}
    assert event["clinician"] == {"id": clinic.clinicians[0].pk, "name": clinic.clinicians[0].display_name}
    assert event["patient"] == {"id": patient.pk, "name": f"{patient.first_name} {patient.last_name}"}
    assert event["status"] == "scheduled"
    [window] = by_type(body, "integration_window")
    assert window["status"] == "booked"
    assert set(body) == set(CalendarSerializer().fields)
    for item in body["events"]:
        assert set(item) == set(CalendarEventSerializer().fields)
    serializer = CalendarSerializer(data=body)
    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"end": "2031-06-03T00:00:00Z"}, "start", "range_required"),
        ({"start": "2031-06-02T00:00:00Z"}, "end", "range_required"),
        ({"start": "2031-06-02T00:00:00", "end": "2031-06-03T00:00:00Z"}, "start", "naive_datetime"),
        ({"start": "2031-06-02T00:00:00Z", "end": "2031-06-03"}, "end", "naive_datetime"),
        ({"start": "next monday", "end": "2031-06-03T00:00:00Z"}, "start", "invalid"),
        ({"start": "2031-06-03T00:00:00Z", "end": "2031-06-02T00:00:00Z"}, "end", "range_inverted"),
        ({"start": "2031-06-03T00:00:00Z", "end": "2031-06-03T00:00:00Z"}, "end", "range_inverted"),
        ({"start": "2031-06-01T00:00:00Z", "end": "2031-09-03T00:00:00Z"}, "end", "range_too_long"),
        ({"start": "0001-01-01T00:00:00+14:00", "end": "0001-01-02T00:00:00Z"}, "start", "out_of_range"),
        ({"start": "2031-06-02T00:00:00Z", "end": "2031-06-03T00:00:00Z", "type": "infusion"}, "type", "event_type"),
        ({"start": "2031-06-02T00:00:00Z", "end": "2031-06-03T00:00:00Z", "chair": "one"}, "chair", "id_list"),
        ({"start": "2031-06-02T00:00:00Z", "end": "2031-06-03T00:00:00Z", "patient": "9" * 20}, "patient", "id_list"),
        (
            {"start": "2031-06-02T00:00:00Z", "end": "2031-06-03T00:00:00Z", "include_cancelled": "maybe"},
            "include_cancelled",
            "boolean",
        ),
    ],
)
def test_bad_ranges_and_filters_answer_400_naming_the_field(
    front_desk: Any, params: dict[str, str], field: str, rule: str
) -> None:
    response = front_desk.get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["field"] == field
    assert body["rule"] == rule
    assert body["message"]


def test_93_days_is_allowed_and_a_plus_sign_decoded_as_a_space_is_read_as_an_offset(front_desk: Any) -> None:
    response = front_desk.get(URL + "?start=2031-06-01T00:00:00+04:00&end=2031-09-02T00:00:00+04:00")

    assert response.status_code == 200, response.content
    assert response.json()["start"] == "2031-05-31T16:00:00-04:00"


def test_93_local_days_across_the_end_of_daylight_saving_are_allowed_and_94_are_not(front_desk: Any) -> None:
    # Local midnight to local midnight 93 days on: 93 days and one hour elapse (clocks fall back).
    start = at(dt.date(2031, 10, 1), 0)
    allowed = front_desk.get(URL, {"start": start.isoformat(), "end": at(dt.date(2032, 1, 2), 0).isoformat()})
    refused = front_desk.get(URL, {"start": start.isoformat(), "end": at(dt.date(2032, 1, 3), 0).isoformat()})

    assert allowed.status_code == 200, allowed.content
    assert refused.status_code == 400
    assert refused.json()["rule"] == "range_too_long"


def test_anonymous_is_refused_and_a_user_without_a_role_gets_403(db: None) -> None:
    from rest_framework.test import APIClient

    params = {"start": "2031-06-02T00:00:00Z", "end": "2031-06-03T00:00:00Z"}
    assert APIClient().get(URL, params).status_code == 401
    response = client_for(factories.UserFactory()).get(URL, params)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_schema_documents_the_calendar_parameters_and_errors(db: None, settings: Any) -> None:
    from rest_framework.test import APIClient

    settings.API_DOCS_PUBLIC = True
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/calendar/"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["start"]["required"] and params["end"]["required"]
    assert {"type", "chair", "clinician", "therapist", "patient", "include_cancelled"} <= set(params)
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert Role.FRONT_DESK  # the roles the description names exist
