"""Bad input of every kind answers 400, 404 or 409 in the one error shape, never 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from courses.models import Course
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from tests import factories
from tests.api.conftest import World
from tests.conftest import at

pytestmark = pytest.mark.django_db


def assert_error(response: Any, status: int, *, field: str | None = None, rule: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"code", "message", "field", "rule", "details"}
    if field is not None:
        assert body.get("field") == field, body
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


def counts() -> tuple[int, int, int, int]:
    return (
        Course.objects.count(),
        TreatmentSession.objects.count(),
        IntegrationWindow.objects.count(),
        IntegrationAppointment.objects.count(),
    )


def test_malformed_json_answers_400(world: World):
    response = world.client("front_desk").post(
        "/api/v1/patients/", data='{"first_name": "Ann", ', content_type="application/json"
    )
    assert_error(response, 400)


def test_a_body_that_is_not_an_object_answers_400(world: World):
    response = world.client("front_desk").post("/api/v1/courses/propose/", [1, 2], format="json")
    assert_error(response, 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"patient": "abc"}, "patient"),
        ({"patient": True}, "patient"),
        ({"protocol": [1]}, "protocol"),
        ({"first_date": "next tuesday"}, "first_date"),
        ({"first_date": "2031-02-30"}, "first_date"),
        ({"first_date": "9999-01-04"}, "first_date"),
        ({"preferences": {"weekdays": [9]}}, "preferences.weekdays[0]"),
        ({"preferences": {"earliest": "25:00"}}, "preferences.earliest"),
        ({"preferences": {"session_count": -1}}, "preferences.session_count"),
        ({"preferences": {"earliest": "15:00", "latest": "09:00"}}, "preferences.latest"),
    ],
)
def test_wrong_types_and_values_answer_400_naming_the_field(world: World, body: dict[str, Any], field: str):
    valid = {"patient": world.patient_a.pk, "protocol": world.clinic.protocol.pk, "first_date": "2031-06-16"}
    response = world.client("front_desk").post("/api/v1/courses/propose/", {**valid, **body}, format="json")
    assert_error(response, 400, field=field)


@pytest.mark.parametrize("pk", ["999999", "-1", "abc", str(2**70)])
def test_unknown_ids_in_the_path_answer_404(world: World, pk: str):
    client = world.client("front_desk")
    for path in (f"/api/v1/sessions/{pk}/", f"/api/v1/patients/{pk}/", f"/api/v1/windows/{pk}/"):
        assert_error(client.get(path), 404)
    assert_error(client.post(f"/api/v1/sessions/{pk}/cancel/", {}, format="json"), 404)


@pytest.mark.parametrize("pk", [999999, 2**70, -5])
def test_unknown_ids_in_the_body_answer_400_naming_the_field(world: World, pk: int):
    response = world.client("front_desk").post(
        "/api/v1/courses/propose/",
        {"patient": pk, "protocol": world.clinic.protocol.pk, "first_date": "2031-06-16"},
        format="json",
    )
    assert_error(response, 400, field="patient")


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"start": "2031-06-10T00:00:00Z", "end": "2031-06-01T00:00:00Z"}, "end", "range_inverted"),
        ({"start": "2031-01-01T00:00:00Z", "end": "2033-01-01T00:00:00Z"}, "end", "range_too_long"),
        ({"start": "2031-06-01T00:00:00"}, "start", "naive_datetime"),
        ({"start": "yesterday"}, "start", "invalid"),
        ({"patient": "x"}, "patient", "invalid"),
        ({"patient": str(2**70)}, "patient", "max_value"),
        ({"status": "sleeping"}, "status", "invalid_choice"),
        ({"date": "0001-01-01"}, "date", "out_of_range"),
    ],
)
def test_bad_list_filters_answer_400(world: World, query: dict[str, str], field: str, rule: str):
    assert_error(world.client("front_desk").get("/api/v1/sessions/", query), 400, field=field, rule=rule)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"within_hours": "0", "state": "opening_soon"}, "within_hours"),
        ({"state": "someday"}, "state"),
        ({"booked": "perhaps"}, "booked"),
    ],
)
def test_bad_window_filters_answer_400(world: World, query: dict[str, str], field: str):
    assert_error(world.client("therapist").get("/api/v1/windows/", query), 400, field=field)


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"start": "2031-06-10", "end": "2031-06-01"}, "end", "range_inverted"),
        ({"start": "2031-06-01", "end": "2031-09-01"}, "end", "range_too_long"),
        ({"start": "2031-06-01"}, "end", "required"),
        ({"start": "2031-06-01", "end": "2031-06-02", "chair": "999999"}, "chair", "does_not_exist"),
    ],
)
def test_availability_needs_a_bounded_ordered_range(world: World, query: dict[str, str], field: str, rule: str):
    query = {"protocol": str(world.clinic.protocol.pk), **query}
    assert_error(world.client("front_desk").get("/api/v1/availability/", query), 400, field=field, rule=rule)


def test_a_naive_datetime_in_a_body_answers_400_naming_the_field(world: World):
    response = world.client("front_desk").post(
        f"/api/v1/sessions/{world.session_a.pk}/reschedule/", {"starts_at": "2031-06-02T10:00:00"}, format="json"
    )
    assert_error(response, 400, field="starts_at", rule="naive")
    nested = world.client("front_desk").post(
        "/api/v1/courses/",
        {
            "patient": world.patient_a.pk,
            "protocol": world.clinic.protocol.pk,
            "sessions": [{"starts_at": "2031-06-16T09:00:00", "chair": 1, "clinician": 1}],
        },
        format="json",
    )
    assert_error(nested, 400, field="sessions[0].starts_at", rule="naive")


def test_dates_in_the_past_are_refused(world: World):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    propose = world.client("front_desk").post(
        "/api/v1/courses/propose/",
        {"patient": world.patient_a.pk, "protocol": world.clinic.protocol.pk, "first_date": yesterday.isoformat()},
        format="json",
    )
    assert_error(propose, 400, field="first_date", rule="in_the_past")
    past = at(yesterday, 10)
    moved = world.client("front_desk").post(
        f"/api/v1/sessions/{world.session_a.pk}/reschedule/", {"starts_at": past.isoformat()}, format="json"
    )
    assert_error(moved, 409, rule="in_the_past")
    screening = world.client("clinician").post(
        "/api/v1/screenings/",
        {
            "patient": world.patient_a.pk,
            "performed_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
            "outcome": "needs_review",
            "valid_until": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            "informed_consent_off_label": False,
        },
        format="json",
    )
    assert_error(screening, 400, field="performed_on")


@pytest.mark.parametrize(
    ("key", "rule"),
    [("status", "unknown_field"), ("created_at", "read_only"), ("sms_opted_out_at", "read_only")],
)
def test_fields_nobody_may_set_are_refused_not_ignored(world: World, key: str, rule: str):
    response = world.client("front_desk").patch(
        f"/api/v1/patients/{world.patient_a.pk}/", {"phone": "+15550002222", key: "x"}, format="json"
    )
    assert_error(response, 400, field=key, rule=rule)
    assert Patient.objects.get(pk=world.patient_a.pk).phone != "+15550002222"


def test_fields_a_role_may_not_set_are_refused(world: World):
    monday = world.session_a.local_date
    therapist = world.client("therapist").post(
        f"/api/v1/windows/{world.window_b.pk}/appointments/",
        {"therapist": world.clinic.therapists[0].pk, "starts_at": at(monday + dt.timedelta(days=1), 10).isoformat()},
        format="json",
    )
    assert_error(therapist, 400, field="therapist", rule="forbidden_field")
    front_desk = world.client("front_desk").post(
        f"/api/v1/sessions/{world.session_a.pk}/reschedule/",
        {"starts_at": (world.session_a.starts_at + dt.timedelta(hours=2)).isoformat(), "override_reason": "ok"},
        format="json",
    )
    assert_error(front_desk, 400, field="override_reason", rule="forbidden_field")
    patient = world.client("patient_a").patch("/api/v1/me/preferences/", {"user": 5}, format="json")
    assert_error(patient, 400, field="user", rule="unknown_field")


def test_a_booking_that_conflicts_answers_409_with_the_next_date_and_writes_nothing(world: World):
    other = factories.screened_patient(clinician=world.clinic.clinicians[0])
    taken = world.course_b.sessions.order_by("sequence")
    before = counts()
    response = world.client("front_desk").post(
        "/api/v1/courses/",
        {
            "patient": other.pk,
            "protocol": world.clinic.protocol.pk,
            "sessions": [
                {"starts_at": s.starts_at.isoformat(), "chair": s.chair_id, "clinician": s.clinician_id} for s in taken
            ],
        },
        format="json",
    )
    body = assert_error(response, 409)
    assert body["rule"] in {"chair_unavailable", "clinician_unavailable"}
    assert body["details"]["next_feasible_first_date"] is not None
    assert counts() == before
    assert not Course.objects.filter(patient=other).exists()


def test_a_booking_breaking_a_course_rule_answers_409_naming_it(world: World):
    other = factories.screened_patient(clinician=world.clinic.clinicians[0])
    monday = world.session_a.local_date + dt.timedelta(days=28)
    before = counts()
    response = world.client("front_desk").post(
        "/api/v1/courses/",
        {
            "patient": other.pk,
            "protocol": world.clinic.protocol.pk,
            "sessions": [
                {
                    "starts_at": at(monday + dt.timedelta(days=d), 12).isoformat(),
                    "chair": world.clinic.chairs[0].pk,
                    "clinician": world.clinic.clinicians[0].pk,
                }
                for d in (0, 1, 2, 3)
            ],
        },
        format="json",
    )
    body = assert_error(response, 409, field="sessions")
    assert body["rule"] in {"min_gap", "induction_span"}
    assert counts() == before


def test_no_screening_and_a_second_course_are_rule_violations(world: World):
    unscreened = factories.PatientFactory()
    client = world.client("front_desk")
    no_screening = client.post(
        "/api/v1/courses/propose/",
        {"patient": unscreened.pk, "protocol": world.clinic.protocol.pk, "first_date": "2031-07-07"},
        format="json",
    )
    assert_error(no_screening, 409, field="patient", rule="screening_required")
    second = client.post(
        "/api/v1/courses/",
        {"patient": world.patient_a.pk, "protocol": world.clinic.protocol.pk, "first_date": "2031-07-07"},
        format="json",
    )
    assert_error(second, 409, rule="one_active_course")


def test_booking_a_booked_window_again_answers_409(world: World):
    response = world.client("front_desk").post(
        f"/api/v1/windows/{world.window_a.pk}/appointments/",
        {
            "therapist": world.clinic.therapists[0].pk,
            "starts_at": at(world.session_a.local_date + dt.timedelta(days=1), 10).isoformat(),
        },
        format="json",
    )
    assert_error(response, 409, rule="window_already_booked")


def test_an_action_in_the_wrong_status_answers_409(world: World):
    client = world.client("clinician")
    assert client.post(f"/api/v1/sessions/{world.session_a.pk}/cancel/", {}, format="json").status_code == 200
    again = client.post(f"/api/v1/sessions/{world.session_a.pk}/cancel/", {}, format="json")
    assert_error(again, 409, field="status", rule="cancel_from_cancelled")
    hold = client.post(f"/api/v1/sessions/{world.session_a.pk}/hold/", {"reason": " "}, format="json")
    assert_error(hold, 400, field="reason")


def test_a_patient_cannot_ask_twice_to_move_one_session(world: World):
    response = world.client("patient_a").post(
        f"/api/v1/sessions/{world.session_a.pk}/request-reschedule/", {"message": "again"}, format="json"
    )
    assert_error(response, 409, rule="reschedule_one_open")


@pytest.mark.parametrize(
    ("series", "field", "rule"),
    [
        ({"rule": "COUNT=3"}, "rule", "recurrence_invalid"),  # no FREQ
        ({"rule": "INTERVAL=2", "count": 3}, "rule", "recurrence_invalid"),
        ({"rule": "FREQ=WEEKLY;INTERVAL=3;COUNT=3", "count": 5}, "rule", "series_bounded"),
        ({"rule": "FREQ=WEEKLY;UNTIL=20320101", "until": "2032-06-01"}, "rule", "series_bounded"),
        ({"rule": "FREQ=WEEKLY;COUNT=3;UNTIL=20320101"}, "rule", "recurrence_invalid"),
        ({"rule": "FREQ=WEEKLY;UNTIL=20320101T123000Z"}, "rule", "recurrence_invalid"),
        ({"rule": "DTSTART:20310707T140000\nRRULE:FREQ=WEEKLY;COUNT=3"}, "rule", "recurrence_invalid"),
        ({"rule": "FREQ=WEEKLY;BYDAY=XX;COUNT=3"}, "rule", "recurrence_invalid"),
        ({"rule": "FREQ=DAILY;COUNT=600"}, "rule", "series_bounded"),
        ({"interval_days": 1, "until": "2034-01-01"}, "until", "series_bounded"),
        ({"interval_days": 21}, "count", "series_bounded"),
    ],
    ids=[
        "no-freq",
        "no-freq-with-count",
        "rule-count-and-count",
        "rule-until-and-until",
        "count-and-until-in-rule",
        "utc-until",
        "dtstart-line",
        "bad-byday",
        "rule-count-too-long",
        "until-too-far",
        "unbounded",
    ],
)
def test_a_maintenance_series_that_is_not_one_answers_400_and_books_nothing(world: World, series, field, rule):
    before = TreatmentSession.objects.count()
    response = world.client("front_desk").post(
        f"/api/v1/courses/{world.course_a.pk}/maintenance/",
        {
            "first_starts_at": at(world.session_a.local_date + dt.timedelta(days=28), 10).isoformat(),
            "chair": world.clinic.chairs[0].pk,
            "clinician": world.clinic.clinicians[0].pk,
            **series,
        },
        format="json",
    )
    assert_error(response, 400, field=field, rule=rule)
    assert TreatmentSession.objects.count() == before


def test_a_duplicate_chair_name_and_inverted_staff_times_answer_400(world: World):
    client = world.client("administrator")
    assert_error(
        client.post("/api/v1/chairs/", {"name": world.clinic.chairs[0].name}, format="json"), 400, field="name"
    )
    inverted = client.post(
        "/api/v1/working-hours/",
        {"staff": world.clinic.clinicians[0].pk, "weekday": 5, "starts": "12:00", "ends": "09:00"},
        format="json",
    )
    assert_error(inverted, 400, field="ends")
    off = client.post(
        "/api/v1/time-off/",
        {
            "staff": world.clinic.therapists[0].pk,
            "starts_at": "2031-06-10T12:00:00Z",
            "ends_at": "2031-06-10T09:00:00Z",
        },
        format="json",
    )
    assert_error(off, 400, field="ends_at")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "localtime", "posixrules", "../zoneinfo/UTC", "/etc/localtime", ""])
def test_a_time_zone_that_is_not_an_iana_name_answers_400(world: World, zone: str):
    response = world.client("patient_a").patch("/api/v1/me/preferences/", {"time_zone": zone}, format="json")
    assert_error(response, 400, field="time_zone", rule="iana_time_zone" if zone else None)


def test_an_iana_time_zone_is_accepted(world: World):
    response = world.client("patient_a").patch("/api/v1/me/preferences/", {"time_zone": "Europe/Berlin"}, format="json")
    assert response.status_code == 200
    assert response.json()["time_zone"] == "Europe/Berlin"


def test_login_failures_answer_400_and_are_throttled(world: World):
    from rest_framework.test import APIClient

    client = APIClient()
    wrong = client.post("/api/v1/auth/token/", {"username": "patient.a", "password": "nope"}, format="json")
    assert_error(wrong, 400)
    statuses = [
        client.post("/api/v1/auth/token/", {"username": "patient.a", "password": "nope"}, format="json").status_code
        for _ in range(12)
    ]
    assert statuses[-1] == 429
    assert_error(client.post("/api/v1/auth/token/", {}, format="json"), 429)


def test_a_bad_token_answers_401(world: World):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert_error(client.get("/api/v1/sessions/"), 401)


def test_a_json_body_nested_thousands_deep_answers_400_even_to_an_anonymous_caller(world: World, caplog):
    body = "[" * 5000 + "]" * 5000
    response = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")
    assert_error(response, 400)
    assert "nested too deep" in response.json()["message"]
    assert "Traceback" not in caplog.text


def test_a_body_past_the_limit_answers_413_before_it_is_parsed(world: World, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    body = json.dumps({"username": "x" * 2000, "password": "y"})
    response = world.client("front_desk").post("/api/v1/patients/", body, content_type="application/json")
    assert_error(response, 413, rule="max_body_size")


def test_a_body_without_a_declared_length_is_cut_at_the_limit_too(world: World, settings):
    from io import BytesIO

    from ketaminecare.api.parsers import BodyTooLarge, BoundedJSONParser

    settings.MAX_REQUEST_BODY_BYTES = 100
    parser = BoundedJSONParser()
    with pytest.raises(BodyTooLarge):
        parser.parse(BytesIO(b"[" + b"1," * 100 + b"1]"), "application/json", {})
    assert parser.parse(BytesIO(b'{"a": 1}'), "application/json", {}) == {"a": 1}


def test_a_url_past_the_limit_answers_414(world: World, settings):
    settings.MAX_URL_LENGTH = 200
    response = world.client("front_desk").get("/api/v1/sessions/", {"patient": "1" * 300})
    assert_error(response, 414, rule="max_url_length")


def test_too_many_query_fields_answer_400(world: World, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{n}=1" for n in range(20))
    response = world.client("front_desk").get(f"/api/v1/sessions/?{query}")
    assert_error(response, 400, rule="max_fields")


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_api_path_answers_json_404_in_every_mode(world: World, settings, debug: bool):
    settings.DEBUG = debug
    response = world.client("front_desk").get("/api/v1/no-such-thing/")
    assert response["Content-Type"] == "application/json"
    assert_error(response, 404)
    anonymous = APIClient().get("/api/nothing/here/")
    assert_error(anonymous, 404)
