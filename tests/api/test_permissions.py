"""The permission matrix: every endpoint, every method, every role, and the code each one gets.

Each row names an endpoint, a method, a valid body and the answer of every role: anonymous 401,
a refused role 403, a patient asking for another patient's object 404, and for an allowed role
the code the action gives on the shared clinic (200, 201, 204 or a 409 that proves the request
got past the permission check to the service). Every role's call runs in a rolled-back savepoint,
so each sees the clinic as the fixture built it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.services import token_issue
from calendars.services import feed_issue, feed_owner_for
from clinic.models import TimeOff, WorkingHours
from ketaminecare.roles import Role
from measures.services import measure_record
from patients.models import Screening
from reminders.models import InboundMessage
from sessions.models import RescheduleRequest, TreatmentSession
from tests import factories
from tests.api.conftest import ROLES, World
from tests.conftest import at

pytestmark = pytest.mark.django_db

CLINIC_WIDE = ("clinician", "front_desk", "administrator")
STAFF = (*CLINIC_WIDE, "therapist")
PATIENTS = ("patient_a", "patient_b")
EVERYONE = (*STAFF, *PATIENTS)
CONFIGURERS = ("front_desk", "administrator")
CLINICAL = ("clinician", "administrator")


def expect(ok: int, roles: Iterable[str], **overrides: int) -> dict[str, int]:
    """Allowed ``roles`` get ``ok``; the other roles 403; anonymous 401; then the overrides."""
    table = {role: 403 for role in ROLES}
    table["anonymous"] = 401
    for role in roles:
        table[role] = ok
    table.update(overrides)
    return table


Body = dict[str, Any] | Callable[[World, str], dict[str, Any]] | None


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    codes: dict[str, int]
    body: Body = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def ids(world: World) -> dict[str, Any]:
    session_a2 = world.course_a.sessions.get(sequence=2)
    return {
        "patient_a": world.patient_a.pk,
        "course_a": world.course_a.pk,
        "session_a": world.session_a.pk,
        "session_a2": session_a2.pk,
        "window_a": world.window_a.pk,
        "window_b": world.window_b.pk,
        "appointment_a": world.appointment_a.pk,
        "request_a": world.request_a.pk,
        "screening_a": Screening.objects.filter(patient=world.patient_a).values_list("pk", flat=True).first(),
        "protocol": world.clinic.protocol.pk,
        "chair": world.clinic.chairs[0].pk,
        "staff": world.clinic.clinicians[0].pk,
        "working_hours": world.extra["working_hours"].pk,
        "time_off": world.extra["time_off"].pk,
        "feed_a": world.extra["feed_a"].feed.pk,
        "feed_token": world.extra["feed_a"].token,
        "token_a": world.extra["token_a"].pk,
        "measure_a": world.extra["measure_a"].pk,
        "alert_a": world.extra["alert_a"].pk,
        "inbound_a": world.extra["inbound_a"].pk,
    }


def _today() -> dt.date:
    return timezone.localdate()


def _monday(world: World) -> dt.date:
    return world.session_a.local_date


def book_course_body(world: World, role: str) -> dict[str, Any]:
    return {
        "patient": world.extra["patient_c"].pk,
        "protocol": world.clinic.protocol.pk,
        "first_date": (_monday(world) + dt.timedelta(days=14)).isoformat(),
    }


def appointment_body(world: World, role: str) -> dict[str, Any]:
    body: dict[str, Any] = {"starts_at": at(_monday(world) + dt.timedelta(days=1), 10).isoformat()}
    if role != "therapist":
        body["therapist"] = world.clinic.therapists[0].pk
    return body


def measure_body(world: World, role: str) -> dict[str, Any]:
    """A GAD-7 for patient A; each patient answers for themselves."""
    patient = world.patient_b if role == "patient_b" else world.patient_a
    return {"patient": patient.pk, "instrument": "gad7", "answers": [1, 2, 0, 3, 1, 0, 2]}


ROWS = [
    # The root: links only, for anyone
    Row("GET", "/api/v1/", expect(200, ROLES)),
    # Authentication
    Row("GET", "/api/v1/auth/me/", expect(200, EVERYONE)),
    Row("POST", "/api/v1/auth/logout/", expect(204, EVERYONE)),
    Row("GET", "/api/v1/auth/tokens/", expect(200, EVERYONE)),
    # Only one's own tokens: another person's token id answers 404, as any object out of reach.
    Row(
        "POST",
        "/api/v1/auth/tokens/{token_a}/revoke/",
        expect(204, ("patient_a",), **dict.fromkeys((*STAFF, "patient_b"), 404)),
    ),
    Row(
        "POST",
        "/api/v1/auth/token/",
        expect(200, ROLES),
        {"username": "patient.a", "password": "test-pass-123"},
    ),
    # Patients and their own preferences
    Row("GET", "/api/v1/patients/", expect(200, (*CLINIC_WIDE, *PATIENTS))),
    Row(
        "POST",
        "/api/v1/patients/",
        expect(201, CLINIC_WIDE),
        {"first_name": "Casey", "last_name": "Gamma", "date_of_birth": "1990-02-03"},
    ),
    Row("GET", "/api/v1/patients/{patient_a}/", expect(200, (*CLINIC_WIDE, "patient_a"), patient_b=404)),
    Row("PATCH", "/api/v1/patients/{patient_a}/", expect(200, CLINIC_WIDE), {"phone": "+15550001111"}),
    Row("GET", "/api/v1/me/preferences/", expect(200, PATIENTS)),
    Row("PATCH", "/api/v1/me/preferences/", expect(200, PATIENTS), {"remind_by_sms": False}),
    # Screenings and protocols
    Row("GET", "/api/v1/screenings/", expect(200, CLINIC_WIDE)),
    Row(
        "POST",
        "/api/v1/screenings/",
        expect(201, ("clinician",)),
        lambda world, role: {
            "patient": world.patient_a.pk,
            "performed_on": _today().isoformat(),
            "outcome": "needs_review",
            "valid_until": (_today() + dt.timedelta(days=30)).isoformat(),
            "informed_consent_off_label": False,
        },
    ),
    Row("GET", "/api/v1/screenings/{screening_a}/", expect(200, CLINIC_WIDE)),
    Row("GET", "/api/v1/protocols/", expect(200, STAFF)),
    Row("GET", "/api/v1/protocols/{protocol}/", expect(200, STAFF)),
    # Courses
    Row("GET", "/api/v1/courses/", expect(200, (*CLINIC_WIDE, *PATIENTS))),
    Row("GET", "/api/v1/courses/{course_a}/", expect(200, (*CLINIC_WIDE, "patient_a"), patient_b=404)),
    Row(
        "POST",
        "/api/v1/courses/propose/",
        expect(200, CLINIC_WIDE),
        lambda world, role: {**book_course_body(world, role), "patient": world.patient_a.pk},
    ),
    Row("POST", "/api/v1/courses/", expect(201, CLINIC_WIDE), book_course_body),
    Row("POST", "/api/v1/courses/{course_a}/cancel/", expect(200, CLINIC_WIDE), {"reason": "Moved away."}),
    Row(
        "POST",
        "/api/v1/courses/{course_a}/maintenance/",
        expect(201, CLINIC_WIDE),
        lambda world, role: {
            "first_starts_at": at(_monday(world) + dt.timedelta(days=28), 10).isoformat(),
            "chair": world.clinic.chairs[0].pk,
            "clinician": world.clinic.clinicians[0].pk,
            "count": 2,
        },
    ),
    # Reschedule requests
    Row("GET", "/api/v1/reschedule-requests/", expect(200, (*CLINIC_WIDE, *PATIENTS))),
    Row(
        "GET",
        "/api/v1/reschedule-requests/{request_a}/",
        expect(200, (*CLINIC_WIDE, "patient_a"), patient_b=404),
    ),
    Row(
        "POST",
        "/api/v1/reschedule-requests/{request_a}/handle/",
        expect(200, CLINIC_WIDE),
        {"outcome": "handled"},
    ),
    # Chairs, staff, working hours, time off
    Row("GET", "/api/v1/chairs/", expect(200, STAFF)),
    Row("POST", "/api/v1/chairs/", expect(201, CONFIGURERS), {"name": "Chair Z", "location": "Room 9"}),
    Row("GET", "/api/v1/chairs/{chair}/", expect(200, STAFF)),
    Row("PATCH", "/api/v1/chairs/{chair}/", expect(200, CONFIGURERS), {"location": "Room 2"}),
    Row("GET", "/api/v1/staff/", expect(200, STAFF)),
    Row("GET", "/api/v1/staff/{staff}/", expect(200, STAFF)),
    Row("GET", "/api/v1/staff/{staff}/bookings-to-move/", expect(200, CLINIC_WIDE)),
    Row("GET", "/api/v1/staff/bookings-to-move/", expect(200, CLINIC_WIDE)),
    Row("GET", "/api/v1/working-hours/", expect(200, STAFF)),
    Row(
        "POST",
        "/api/v1/working-hours/",
        expect(201, CONFIGURERS),
        lambda world, role: {"staff": world.clinic.clinicians[1].pk, "weekday": 5, "starts": "09:00", "ends": "12:00"},
    ),
    Row("GET", "/api/v1/working-hours/{working_hours}/", expect(200, STAFF)),
    Row("PATCH", "/api/v1/working-hours/{working_hours}/", expect(200, CONFIGURERS), {"ends": "17:00"}),
    Row("DELETE", "/api/v1/working-hours/{working_hours}/", expect(204, CONFIGURERS)),
    Row("GET", "/api/v1/time-off/", expect(200, STAFF)),
    Row(
        "POST",
        "/api/v1/time-off/",
        expect(201, CONFIGURERS),
        lambda world, role: {
            "staff": world.clinic.therapists[0].pk,
            "starts_at": at(_monday(world) + dt.timedelta(days=50), 9).isoformat(),
            "ends_at": at(_monday(world) + dt.timedelta(days=51), 17).isoformat(),
            "reason": "Conference",
        },
    ),
    Row("GET", "/api/v1/time-off/{time_off}/", expect(200, STAFF)),
    Row("PATCH", "/api/v1/time-off/{time_off}/", expect(200, CONFIGURERS), {"reason": "Leave"}),
    Row("DELETE", "/api/v1/time-off/{time_off}/", expect(204, CONFIGURERS)),
    # Treatment sessions: therapists have none; a patient has their own
    Row("GET", "/api/v1/sessions/", expect(200, (*CLINIC_WIDE, *PATIENTS))),
    Row("GET", "/api/v1/sessions/{session_a}/", expect(200, (*CLINIC_WIDE, "patient_a"), patient_b=404)),
    Row(
        "POST",
        "/api/v1/sessions/{session_a}/reschedule/",
        expect(200, CLINIC_WIDE),
        lambda world, role: {"starts_at": (world.session_a.starts_at + dt.timedelta(hours=2)).isoformat()},
    ),
    Row("POST", "/api/v1/sessions/{session_a}/cancel/", expect(200, CLINIC_WIDE), {"reason": "Ill"}),
    # Not the session's day, not yet started, not checked in: the service refuses (409).
    Row("POST", "/api/v1/sessions/{session_a}/check-in/", expect(409, CLINIC_WIDE), {}),
    Row("POST", "/api/v1/sessions/{session_a}/no-show/", expect(409, CLINIC_WIDE), {}),
    # A scheduled session is not missed: the allowed roles reach the rule (make_up_not_missed).
    Row(
        "POST",
        "/api/v1/sessions/{session_a}/make-up/",
        expect(409, CLINIC_WIDE),
        lambda world, role: {"starts_at": (world.session_a.starts_at + dt.timedelta(days=14)).isoformat()},
    ),
    Row("POST", "/api/v1/sessions/{session_a}/complete/", expect(409, ("clinician", "administrator")), {}),
    Row(
        "POST",
        "/api/v1/sessions/{session_a}/hold/",
        expect(200, ("clinician", "administrator")),
        {"reason": "Blood pressure 150/95"},
    ),
    Row(
        "POST",
        "/api/v1/sessions/{session_a}/ride-home/",
        expect(200, (*CLINIC_WIDE, "patient_a"), patient_b=404),
        {"confirmed": True},
    ),
    Row(
        "POST",
        "/api/v1/sessions/{session_a2}/request-reschedule/",
        expect(201, ("patient_a",), patient_b=404),
        {"message": "I have an exam that day."},
    ),
    # Availability
    Row(
        "GET",
        "/api/v1/availability/?protocol={protocol}&start=2031-06-02&end=2031-06-06",
        expect(200, CLINIC_WIDE),
    ),
    # Integration windows and appointments
    Row("GET", "/api/v1/windows/", expect(200, EVERYONE)),
    Row("GET", "/api/v1/windows/{window_a}/", expect(200, (*STAFF, "patient_a"), patient_b=404)),
    Row("GET", "/api/v1/windows/{window_a}/free-slots/", expect(200, STAFF)),
    Row("POST", "/api/v1/windows/{window_b}/appointments/", expect(201, STAFF), appointment_body),
    Row("GET", "/api/v1/appointments/", expect(200, EVERYONE)),
    Row("GET", "/api/v1/appointments/{appointment_a}/", expect(200, (*STAFF, "patient_a"), patient_b=404)),
    Row(
        "POST",
        "/api/v1/appointments/{appointment_a}/move/",
        expect(200, STAFF),
        lambda world, role: {"starts_at": at(_monday(world) + dt.timedelta(days=1), 15).isoformat()},
    ),
    Row("POST", "/api/v1/appointments/{appointment_a}/cancel/", expect(200, STAFF), {"reason": "Therapist ill"}),
    # Not started yet: the service refuses (409) once the role is let through.
    Row(
        "POST",
        "/api/v1/appointments/{appointment_a}/record/",
        expect(409, ("therapist", "administrator")),
        {"attended": True},
    ),
    # The calendar (its own engineer's endpoint): every role has one, scoped to what it may see.
    Row("GET", "/api/v1/calendar/?start=2031-06-01T00:00:00Z&end=2031-06-30T00:00:00Z", expect(200, EVERYONE)),
    # Calendar feeds: the owner or a manager (front desk, administrators); anyone with the URL reads it.
    Row("GET", "/api/v1/feeds/", expect(200, EVERYONE)),
    # Your own feed; this administrator login has no staff record, hence no calendar of its own.
    Row("POST", "/api/v1/feeds/", expect(201, EVERYONE, administrator=400), {}),
    # A feed someone may not manage is not theirs to see: 404, as for any object out of reach.
    Row(
        "POST",
        "/api/v1/feeds/{feed_a}/rotate/",
        expect(201, (*CONFIGURERS, "patient_a"), patient_b=404, therapist=404, clinician=404),
    ),
    Row(
        "POST",
        "/api/v1/feeds/{feed_a}/revoke/",
        expect(200, (*CONFIGURERS, "patient_a"), patient_b=404, therapist=404, clinician=404),
    ),
    Row("GET", "/api/v1/feeds/{feed_token}.ics", expect(200, ROLES)),
    # Outcome measures: clinical, so clinicians and administrators, and each patient their own
    # (posting for another patient is refused 404: tests/api/measures). No front desk, no therapists.
    Row("GET", "/api/v1/measures/", expect(200, (*CLINICAL, *PATIENTS))),
    Row("POST", "/api/v1/measures/", expect(201, (*CLINICAL, *PATIENTS)), measure_body),
    Row("GET", "/api/v1/measures/{measure_a}/", expect(200, (*CLINICAL, "patient_a"), patient_b=404)),
    Row("GET", "/api/v1/courses/{course_a}/progress/", expect(200, (*CLINICAL, "patient_a"), patient_b=404)),
    Row("GET", "/api/v1/measure-alerts/", expect(200, CLINICAL)),
    Row("GET", "/api/v1/measure-alerts/{alert_a}/", expect(200, CLINICAL)),
    Row("POST", "/api/v1/measure-alerts/{alert_a}/acknowledge/", expect(200, ("clinician",)), {"note": "Called."}),
    # The front desk's follow-up: reminders not delivered, and the SMS inbox.
    Row("GET", "/api/v1/reminders/?follow_up=true", expect(200, CONFIGURERS)),
    Row("GET", "/api/v1/sms/inbox/", expect(200, CONFIGURERS)),
    Row("GET", "/api/v1/sms/inbox/{inbound_a}/", expect(200, CONFIGURERS)),
    Row("POST", "/api/v1/sms/inbox/{inbound_a}/handle/", expect(200, CONFIGURERS), {}),
    # The provider's webhooks are open to anyone and closed (404) while no SMS_WEBHOOK_SECRET is
    # set, as here; their signature check is tested in tests/api/reminders/test_sms_api.py.
    Row("POST", "/api/v1/sms/inbound/", dict.fromkeys(ROLES, 404), {}),
    Row("POST", "/api/v1/sms/status/", dict.fromkeys(ROLES, 404), {}),
]


def call(world: World, role: str, row: Row) -> Any:
    client = world.client(role)
    body = row.body(world, role) if callable(row.body) else row.body
    path = row.path.format(**ids(world))
    method = getattr(client, row.method.lower())
    return method(path, body, format="json") if body is not None else method(path)


@pytest.fixture
def matrix_world(world: World) -> World:
    world.extra["patient_c"] = factories.screened_patient(clinician=world.clinic.clinicians[0], first_name="Casey")
    world.extra["time_off"] = TimeOff.objects.create(
        staff=world.clinic.therapists[0],
        starts_at=at(world.session_a.local_date + dt.timedelta(days=40), 9),
        ends_at=at(world.session_a.local_date + dt.timedelta(days=40), 12),
        reason="Dentist",
    )
    # A Sunday block with no session in it: removing it or moving its end leaves no booking behind.
    world.extra["working_hours"] = WorkingHours.objects.create(
        staff=world.clinic.clinicians[1], weekday=6, starts=dt.time(9), ends=dt.time(12)
    )
    owner = feed_owner_for(actor=world.users["patient_a"])
    world.extra["feed_a"] = feed_issue(owner=owner)
    world.extra["token_a"] = token_issue(user=world.users["patient_a"]).token
    # Patient A's PHQ-9 with item 9 above 0: a measure and its open alert.
    recorded = measure_record(
        patient=world.patient_a, instrument="phq9", answers=[1, 1, 1, 0, 0, 0, 0, 0, 1], entered_by=None
    )
    world.extra["measure_a"], world.extra["alert_a"] = recorded.measure, recorded.alert
    # Patient A's SMS that no keyword answered: a row of the front desk's inbox.
    world.extra["inbound_a"] = InboundMessage.objects.create(
        provider_id="SM-matrix",
        from_number=world.patient_a.phone,
        body="Can I bring my sister?",
        received_at=timezone.now(),
        patient=world.patient_a,
        action=InboundMessage.Action.INBOX,
    )
    return world


def test_every_endpoint_of_the_url_conf_is_in_the_matrix():
    """A new endpoint must join the matrix: compare the schema's operations with the rows."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "put", "delete")
    }
    covered = set()
    for row in ROWS:
        template = row.path.split("?")[0]
        for name in ("patient_a", "course_a", "session_a2", "session_a", "window_a", "window_b", "appointment_a"):
            template = template.replace("{" + name + "}", "{id}")
        for name in (
            "request_a",
            "screening_a",
            "protocol",
            "chair",
            "staff",
            "working_hours",
            "time_off",
            "feed_a",
            "token_a",
            "measure_a",
            "alert_a",
            "inbound_a",
        ):
            template = template.replace("{" + name + "}", "{id}")
        template = template.replace("{feed_token}", "{token}")
        covered.add((row.method, template))
    missing = operations - covered
    assert not missing, f"endpoints without a row in the permission matrix: {sorted(missing)}"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_permission_matrix(matrix_world: World, row: Row):
    answers = {}
    for role in ROLES:
        with transaction.atomic():
            response = call(matrix_world, role, row)
            answers[role] = response.status_code
            if response.status_code >= 400:
                body = response.json()
                assert set(body) >= {"code", "message"}, (role, body)
            transaction.set_rollback(True)
    assert answers == row.codes


LISTS = [
    "/api/v1/patients/",
    "/api/v1/courses/",
    "/api/v1/sessions/",
    "/api/v1/windows/",
    "/api/v1/appointments/",
    "/api/v1/reschedule-requests/",
]


def _patient_ids(path: str, row: dict[str, Any]) -> set[int]:
    if path == "/api/v1/patients/":
        return {row["id"]}
    patient = row["patient"]
    return {patient["id"] if isinstance(patient, dict) else patient}


@pytest.mark.parametrize("path", LISTS)
def test_lists_never_carry_another_patients_rows(world: World, path: str):
    window_b_appointment_by_front_desk = world.client("front_desk").post(
        f"/api/v1/windows/{world.window_b.pk}/appointments/",
        {
            "therapist": world.clinic.therapists[0].pk,
            "starts_at": at(world.session_b.local_date + dt.timedelta(days=1), 10).isoformat(),
        },
        format="json",
    )
    assert window_b_appointment_by_front_desk.status_code == 201
    RescheduleRequest.objects.create(patient=world.patient_b, session=world.session_b)
    for role, own in (("patient_a", world.patient_a.pk), ("patient_b", world.patient_b.pk)):
        rows = world.client(role).get(path, {"page_size": 500}).json()["results"]
        assert rows, f"{role} sees nothing at {path}"
        seen = set().union(*(_patient_ids(path, row) for row in rows))
        assert seen == {own}, f"{role} sees other patients at {path}: {seen}"
    staff_rows = world.client("front_desk").get(path, {"page_size": 500}).json()["results"]
    assert set().union(*(_patient_ids(path, row) for row in staff_rows)) >= {world.patient_a.pk}


def test_therapist_lists_only_their_own_appointments_and_no_clinical_fields(world: World):
    other = factories.staff(Role.THERAPIST, starts=dt.time(9), ends=dt.time(17))
    booked = world.client("front_desk").post(
        f"/api/v1/windows/{world.window_b.pk}/appointments/",
        {"therapist": other.pk, "starts_at": at(world.session_b.local_date + dt.timedelta(days=1), 10).isoformat()},
        format="json",
    )
    assert booked.status_code == 201
    therapist = world.client("therapist")
    rows = therapist.get("/api/v1/appointments/").json()["results"]
    assert [row["id"] for row in rows] == [world.appointment_a.pk]
    assert therapist.get(f"/api/v1/appointments/{booked.json()['id']}/").status_code == 404
    windows = therapist.get("/api/v1/windows/").json()["results"]
    text = str(windows)
    assert "dose" not in text and "clinical_notes" not in text and "contraindications" not in text
    assert {"first_name", "last_name", "phone"} <= set(windows[0]["patient"])


def test_front_desk_sees_no_dose_or_notes_but_clinician_does(world: World):
    TreatmentSession.objects.filter(pk=world.session_a.pk).update(clinical_notes="BP fine", dose_mg=35)
    path = f"/api/v1/sessions/{world.session_a.pk}/"
    front_desk = world.client("front_desk").get(path).json()
    clinician = world.client("clinician").get(path).json()
    patient = world.client("patient_a").get(path).json()
    assert "dose_mg" not in front_desk and "clinical_notes" not in front_desk
    assert "dose_mg" not in patient and "clinical_notes" not in patient
    assert clinician["clinical_notes"] == "BP fine"
    screening = world.client("front_desk").get("/api/v1/screenings/").json()["results"][0]
    assert "notes" not in screening and "contraindications_found" not in screening
