"""What the endpoints do, beyond who may call them: filters, free time, preferences, overrides."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from patients.models import Patient
from sessions.models import IntegrationWindow, RescheduleRequest, RuleOverride, TreatmentSession
from tests.api.conftest import World
from tests.conftest import CLINIC_ZONE, at

pytestmark = pytest.mark.django_db


def test_window_state_filters_follow_the_clock(world: World):
    now = timezone.now()
    open_now = world.window_b
    IntegrationWindow.objects.filter(pk=open_now.pk).update(
        opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(hours=5)
    )
    IntegrationWindow.objects.filter(pk=world.window_a.pk).update(
        opens_at=now + dt.timedelta(hours=3), closes_at=now + dt.timedelta(hours=27)
    )
    client = world.client("therapist")

    def ids(**query: str) -> set[int]:
        return {w["id"] for w in client.get("/api/v1/windows/", query).json()["results"]}

    assert ids(state="open_now") == {open_now.pk}
    assert ids(state="closing_soon", within_hours="6") == {open_now.pk}
    assert ids(state="closing_soon", within_hours="4") == set()
    assert ids(state="opening_soon", within_hours="4") == {world.window_a.pk}
    assert ids(state="opening_soon", within_hours="2") == set()
    assert world.window_a.pk in ids(booked="true")
    assert world.window_a.pk not in ids(booked="false")
    assert ids(therapist=str(world.clinic.therapists[0].pk)) == {world.window_a.pk}
    day = world.window_b.session.local_date + dt.timedelta(days=1)
    assert world.window_b.pk not in ids(date=day.isoformat())  # window_b was moved to now


def test_free_slots_leave_out_the_therapists_appointments(world: World):
    slots = world.client("therapist").get(f"/api/v1/windows/{world.window_b.pk}/free-slots/").json()
    busy_start = world.appointment_a.starts_at
    busy_end = world.appointment_a.ends_at
    assert slots
    for slot in slots:
        start, end = dt.datetime.fromisoformat(slot["starts_at"]), dt.datetime.fromisoformat(slot["ends_at"])
        assert end - start >= dt.timedelta(minutes=60)
        assert end <= busy_start or start >= busy_end
        assert world.window_b.opens_at <= start and end <= world.window_b.closes_at


def test_availability_leaves_out_booked_chairs_and_the_patients_own_time(world: World):
    day = world.session_a.local_date
    query = {"protocol": world.clinic.protocol.pk, "start": day.isoformat(), "end": day.isoformat()}
    blocks = world.client("front_desk").get("/api/v1/availability/", query).json()["results"]
    assert blocks
    session = world.session_a
    for block in blocks:
        start, end = dt.datetime.fromisoformat(block["starts_at"]), dt.datetime.fromisoformat(block["ends_at"])
        assert end - start >= dt.timedelta(minutes=100)
        if block["chair"] == session.chair_id or block["clinician"] == session.clinician_id:
            assert end <= session.starts_at or start >= session.ends_at
    only_a = world.client("front_desk").get("/api/v1/availability/", {**query, "patient": world.patient_a.pk})
    for block in only_a.json()["results"]:
        assert (
            dt.datetime.fromisoformat(block["starts_at"]) >= session.ends_at
            or dt.datetime.fromisoformat(block["ends_at"]) <= session.starts_at
        )


def test_a_patient_opts_out_and_back_in_and_the_moment_is_kept(world: World):
    client = world.client("patient_a")
    out = client.patch(
        "/api/v1/me/preferences/", {"sms_opted_out": True, "quiet_hours_start": "22:30"}, format="json"
    ).json()
    assert out["sms_opted_out"] is True and out["sms_opted_out_at"]
    assert out["quiet_hours_start"] == "22:30:00"
    patient = Patient.objects.get(pk=world.patient_a.pk)
    assert not patient.channel_allowed("sms")
    back = client.patch("/api/v1/me/preferences/", {"sms_opted_out": False}, format="json").json()
    assert back["sms_opted_out"] is False and back["sms_opted_out_at"] is None
    assert Patient.objects.get(pk=world.patient_b.pk).sms_opted_out_at is None


def test_a_patients_request_reaches_the_front_desk_who_closes_it(world: World):
    session = world.course_a.sessions.get(sequence=3)
    asked = world.client("patient_a").post(
        f"/api/v1/sessions/{session.pk}/request-reschedule/", {"message": "Work trip"}, format="json"
    )
    assert asked.status_code == 201
    open_requests = world.client("front_desk").get("/api/v1/reschedule-requests/", {"status": "open"}).json()
    assert asked.json()["id"] in {r["id"] for r in open_requests["results"]}
    handled = world.client("front_desk").post(
        f"/api/v1/reschedule-requests/{asked.json()['id']}/handle/", {"outcome": "declined"}, format="json"
    )
    assert handled.json()["status"] == "declined"
    assert RescheduleRequest.objects.get(pk=asked.json()["id"]).handled_by == world.users["front_desk"]


def test_a_clinician_sets_a_course_rule_aside_with_a_reason(world: World):
    second = world.course_a.sessions.get(sequence=2)
    too_close = world.session_a.starts_at + dt.timedelta(days=1)
    client = world.client("clinician")
    refused = client.post(
        f"/api/v1/sessions/{second.pk}/reschedule/", {"starts_at": too_close.isoformat()}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "min_gap"
    moved = client.post(
        f"/api/v1/sessions/{second.pk}/reschedule/",
        {"starts_at": too_close.isoformat(), "override_reason": "Patient travels; prescriber agreed."},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert [o["rule"] for o in moved.json()["overrides"]] == ["min_gap"]
    assert RuleOverride.objects.filter(session=second, rule="min_gap").exists()


def test_course_cancel_and_maintenance_series(world: World):
    client = world.client("front_desk")
    first = world.session_a.local_date + dt.timedelta(days=28)
    series = client.post(
        f"/api/v1/courses/{world.course_a.pk}/maintenance/",
        {
            "first_starts_at": at(first, 10).isoformat(),
            "chair": world.clinic.chairs[0].pk,
            "clinician": world.clinic.clinicians[0].pk,
            "interval_days": 21,
            "count": 3,
        },
        format="json",
    )
    assert series.status_code == 201, series.json()
    starts = [dt.datetime.fromisoformat(s["starts_at"]) for s in series.json()["sessions"]]
    assert [s.astimezone(CLINIC_ZONE).hour for s in starts] == [10, 10, 10]
    assert [(b - a).days for a, b in itertools.pairwise(starts)] == [21, 21]
    cancelled = client.post(f"/api/v1/courses/{world.course_a.pk}/cancel/", {"reason": "Moved away"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    assert not TreatmentSession.objects.filter(course=world.course_a, status=TreatmentSession.Status.SCHEDULED).exists()


def test_the_therapist_moves_cancels_and_books_their_own_appointment(world: World):
    client = world.client("therapist")
    tuesday = world.session_a.local_date + dt.timedelta(days=1)
    moved = client.post(
        f"/api/v1/appointments/{world.appointment_a.pk}/move/",
        {"starts_at": at(tuesday, 15).isoformat()},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["revision"] == 1
    cancelled = client.post(f"/api/v1/appointments/{world.appointment_a.pk}/cancel/", {}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    booked = client.post(
        f"/api/v1/windows/{world.window_a.pk}/appointments/", {"starts_at": at(tuesday, 11).isoformat()}, format="json"
    )
    assert booked.status_code == 201 and booked.json()["therapist"] == world.clinic.therapists[0].pk


def test_sessions_filter_by_patient_date_and_upcoming(world: World):
    client = world.client("front_desk")
    day = world.session_a.local_date
    rows = client.get("/api/v1/sessions/", {"date": day.isoformat(), "patient": world.patient_a.pk}).json()
    assert [r["id"] for r in rows["results"]] == [world.session_a.pk]
    own = world.client("patient_a").get("/api/v1/sessions/", {"upcoming": "true"}).json()
    assert own["count"] == 6


def test_logout_revokes_the_token(world: World):
    client = world.client("front_desk")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert not ApiToken.objects.filter(user=world.users["front_desk"], revoked_at__isnull=True).exists()
    assert client.get("/api/v1/sessions/").status_code == 401


def test_session_login_for_the_browsable_api(world: World):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get("/api/auth/login/").status_code == 200
    client.force_login(world.users["front_desk"])
    assert client.get("/api/v1/sessions/", HTTP_ACCEPT="text/html").status_code == 200
