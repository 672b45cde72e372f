"""What the sessions, windows, appointments and availability endpoints do, beyond who may call
them: filters and free time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reminders.models import Reminder, ReminderKind
from sessions.models import IntegrationWindow
from tests.api.conftest import World
from tests.conftest import at

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


def test_the_acting_user_reaches_the_notices_a_therapist_hears_only_of_others_changes(world: World):
    appointment = world.appointment_a
    tuesday = world.session_a.local_date + dt.timedelta(days=1)
    told = Reminder.objects.filter(kind=ReminderKind.APPOINTMENT_CHANGED_BY_OTHER, status=Reminder.Status.PENDING)

    own = world.client("therapist").post(
        f"/api/v1/appointments/{appointment.pk}/move/", {"starts_at": at(tuesday, 15).isoformat()}, format="json"
    )
    assert own.status_code == 200 and not told.exists()

    other = world.client("front_desk").post(
        f"/api/v1/appointments/{appointment.pk}/move/", {"starts_at": at(tuesday, 14).isoformat()}, format="json"
    )
    assert other.status_code == 200
    assert [(r.staff_id, r.anchor_at) for r in told] == [(appointment.therapist_id, at(tuesday, 14))]
