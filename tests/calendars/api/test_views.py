"""The calendar endpoint: links to the API, the documented shape, bad ranges and filters, roles."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from api.calendars.serializers import CalendarEventSerializer, CalendarSerializer
from clinic.models import ClosureDay
from ketaminecare.roles import Role
from sessions.models import TreatmentSession
from tests import factories
from tests.calendars.calendar_data import (
    CALENDAR_URL,
    appointment_add,
    by_type,
    calendar,
    client_for,
    patient_login,
    session_add,
)
from tests.conftest import at

pytestmark = pytest.mark.django_db


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
    # The API's real routes (windows/ and appointments/); closures have no route, hence no link.
    assert urls == {
        "session": f"http://clinic.example.org/api/v1/sessions/{session.pk}/",
        "integration_window": f"http://clinic.example.org/api/v1/windows/{session.integration_window.pk}/",
        "integration_appointment": f"http://clinic.example.org/api/v1/appointments/{appointment.pk}/",
        "closure": None,
    }
    assert [e["id"] for e in by_type(body, "closure")] == [closure.pk]
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
    response = front_desk.get(CALENDAR_URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["field"] == field
    assert body["rule"] == rule
    assert body["message"]


def test_93_days_is_allowed_and_a_plus_sign_decoded_as_a_space_is_read_as_an_offset(front_desk: Any) -> None:
    response = front_desk.get(CALENDAR_URL + "?start=2031-06-01T00:00:00+04:00&end=2031-09-02T00:00:00+04:00")

    assert response.status_code == 200, response.content
    assert response.json()["start"] == "2031-05-31T16:00:00-04:00"


def test_93_local_days_across_the_end_of_daylight_saving_are_allowed_and_94_are_not(front_desk: Any) -> None:
    # Local midnight to local midnight 93 days on: 93 days and one hour elapse (clocks fall back).
    start = at(dt.date(2031, 10, 1), 0)
    allowed = front_desk.get(CALENDAR_URL, {"start": start.isoformat(), "end": at(dt.date(2032, 1, 2), 0).isoformat()})
    refused = front_desk.get(CALENDAR_URL, {"start": start.isoformat(), "end": at(dt.date(2032, 1, 3), 0).isoformat()})

    assert allowed.status_code == 200, allowed.content
    assert refused.status_code == 400
    assert refused.json()["rule"] == "range_too_long"


def test_anonymous_is_refused_and_a_user_without_a_role_gets_403(db: None) -> None:
    params = {"start": "2031-06-02T00:00:00Z", "end": "2031-06-03T00:00:00Z"}
    assert APIClient().get(CALENDAR_URL, params).status_code == 401
    response = client_for(factories.UserFactory()).get(CALENDAR_URL, params)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_schema_documents_the_calendar_parameters_and_errors(db: None, settings: Any) -> None:
    settings.API_DOCS_PUBLIC = True
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/calendar/"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["start"]["required"] and params["end"]["required"]
    assert {"type", "chair", "clinician", "therapist", "patient", "include_cancelled"} <= set(params)
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert Role.FRONT_DESK  # the roles the description names exist


@pytest.mark.parametrize("viewer", ["front_desk", "clinician", "patient"])
def test_every_events_link_resolves_and_answers_200_to_its_viewer(
    clinic: factories.Clinic, patient: Any, viewer: str
) -> None:
    monday = dt.date(2031, 6, 2)
    induction = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    maintenance = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday + dt.timedelta(days=3), 9), phase=TreatmentSession.Phase.MAINTENANCE,
    )  # fmt: skip
    appointment_add(induction, clinic.therapists[0])
    appointment_add(maintenance, clinic.therapists[0])
    ClosureDay.objects.create(date=monday + dt.timedelta(days=2))
    staff = {"front_desk": clinic.front_desk.user, "clinician": clinic.clinicians[0].user}
    client = client_for(staff.get(viewer) or patient_login(patient))

    body = calendar(client, at(monday, 0), at(monday + dt.timedelta(days=7), 0))

    kinds = {e["type"] for e in body["events"]}
    assert kinds == {"session", "maintenance_session", "integration_window", "integration_appointment", "closure"}
    for event in body["events"]:
        if event["type"] == "closure":
            assert event["url"] is None
            continue
        path = urlsplit(event["url"]).path
        assert resolve(path).kwargs == {"pk": str(event["id"])}
        answer = client.get(path)
        assert answer.status_code == 200, (event["type"], answer.content)
        assert answer.json()["id"] == event["id"]
