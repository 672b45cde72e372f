"""The whole front-desk flow, through HTTP only, with a token per person.

Register a patient, have a clinician record the screening, preview a course, book it, move a
session, let the therapist book an integration appointment in a window, read the calendar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from patients.models import Contraindication
from tests import factories

pytestmark = pytest.mark.django_db


def login(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
    return client


def token_login(username: str, password: str) -> APIClient:
    """Log in as an API client does: username and password for a token."""
    answer = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert answer.status_code == 200, answer.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    return client


def next_monday(after_days: int = 7) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=after_days)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def test_front_desk_books_and_moves_a_course_and_the_therapist_books_a_window(clinic: factories.Clinic):
    front_desk = token_login(clinic.front_desk.user.username, "test-pass-123")
    clinician = login(clinic.clinicians[0].user)
    therapist = login(clinic.therapists[0].user)
    today = timezone.localdate()

    # 1. The front desk registers the patient.
    created = front_desk.post(
        "/api/v1/patients/",
        {"first_name": "Dana", "last_name": "Delta", "date_of_birth": "1979-09-09", "phone": "+15550009999"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    patient_id = created.json()["id"]
    assert front_desk.get("/api/v1/patients/", {"search": "delta"}).json()["count"] == 1

    # 2. A clinician records an eligible screening; the front desk reads its outcome.
    screening = clinician.post(
        "/api/v1/screenings/",
        {
            "patient": patient_id,
            "performed_on": today.isoformat(),
            "outcome": "eligible",
            "valid_until": (today + dt.timedelta(days=180)).isoformat(),
            "informed_consent_off_label": True,
            "contraindications_checked": list(Contraindication.values),
        },
        format="json",
    )
    assert screening.status_code == 201, screening.json()
    outcomes = front_desk.get("/api/v1/screenings/", {"patient": patient_id}).json()["results"]
    assert [s["outcome"] for s in outcomes] == ["eligible"]

    # 3. The front desk previews the course: nothing is written.
    first = next_monday()
    preview = front_desk.post(
        "/api/v1/courses/propose/",
        {"patient": patient_id, "protocol": clinic.protocol.pk, "first_date": first.isoformat()},
        format="json",
    )
    assert preview.status_code == 200, preview.json()
    proposal = preview.json()
    assert proposal["feasible"] is True
    assert len(proposal["sessions"]) == 6
    assert all(s["window_opens_at"] and "therapist_free_in_window" in s for s in proposal["sessions"])
    assert front_desk.get("/api/v1/sessions/", {"patient": patient_id}).json()["count"] == 0

    # 4. ... and confirms it.
    booked = front_desk.post(
        "/api/v1/courses/",
        {
            "patient": patient_id,
            "protocol": clinic.protocol.pk,
            "sessions": [
                {"starts_at": s["starts_at"], "chair": s["chair"], "clinician": s["clinician"]}
                for s in proposal["sessions"]
            ],
        },
        format="json",
    )
    assert booked.status_code == 201, booked.json()
    course = booked.json()
    assert [s["starts_at"] for s in course["sessions"]] == [s["starts_at"] for s in proposal["sessions"]]
    assert all(s["window_opens_at"] for s in course["sessions"])

    # 5. The front desk moves the last session two hours later the same day; its window follows.
    last = course["sessions"][-1]
    new_start = dt.datetime.fromisoformat(last["starts_at"]) + dt.timedelta(hours=2)
    moved = front_desk.post(
        f"/api/v1/sessions/{last['id']}/reschedule/", {"starts_at": new_start.isoformat()}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    session = moved.json()["session"]
    assert dt.datetime.fromisoformat(session["starts_at"]) == new_start
    assert session["revision"] == 1
    assert dt.datetime.fromisoformat(session["window"]["opens_at"]) == new_start + dt.timedelta(hours=24, minutes=100)

    # 6. The therapist finds the first window unbooked, asks for free slots and books one.
    first_session = course["sessions"][0]
    windows = therapist.get("/api/v1/windows/", {"booked": "false", "patient": patient_id}).json()["results"]
    window = next(w for w in windows if w["session"] == first_session["id"])
    slots = therapist.get(f"/api/v1/windows/{window['id']}/free-slots/").json()
    assert slots, "the therapist has free time inside the window"
    appointment = therapist.post(
        f"/api/v1/windows/{window['id']}/appointments/", {"starts_at": slots[0]["starts_at"]}, format="json"
    )
    assert appointment.status_code == 201, appointment.json()
    assert appointment.json()["therapist"] == clinic.therapists[0].pk
    assert therapist.get("/api/v1/windows/", {"booked": "true"}).json()["count"] == 1
    mine = therapist.get("/api/v1/appointments/", {"upcoming": "true"}).json()["results"]
    assert [a["id"] for a in mine] == [appointment.json()["id"]]

    # 7. The calendar over the course shows the moved session where it now is, and the appointment.
    start = dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC)
    calendar = front_desk.get(
        "/api/v1/calendar/",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=21)).isoformat()},
    )
    assert calendar.status_code == 200, calendar.json()
    events = calendar.json()["events"]
    by_key = {(e["type"], e["id"]): e for e in events}
    assert dt.datetime.fromisoformat(by_key[("session", last["id"])]["start"]) == new_start
    assert ("integration_appointment", appointment.json()["id"]) in by_key
    assert sum(1 for e in events if e["type"] == "session") == 6
