"""The calendar reader, through the calendar endpoint: every kind of event, wall-clock times with
offsets, what each role sees, filters, and a query count that does not grow with the events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import ClosureDay
from ketaminecare.roles import Role
from sessions.models import TreatmentSession
from sessions.services.lifecycle import session_cancel, session_hold
from sessions.services.reschedule import session_reschedule
from tests import factories
from tests.calendars.calendar_data import (
    CALENDAR_URL,
    appointment_add,
    bulk_sessions,
    by_type,
    calendar,
    client_for,
    patient_login,
    session_add,
)
from tests.conftest import at

pytestmark = pytest.mark.django_db


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
    # (one INSERT naming every patient shown; the roles were read once already): nothing per event.
    assert len(large.captured_queries) == 6


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
    refused = client.get(
        CALENDAR_URL, {"start": start.isoformat(), "end": end.isoformat(), "include_cancelled": "true"}
    )
    assert refused.status_code == 403
    assert refused.json()["field"] == "include_cancelled"


def test_therapist_sees_no_sessions_and_only_their_own_appointments(clinic: factories.Clinic, patient: Any) -> None:
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
    mine = appointment_add(booked, clinic.therapists[0])
    third = factories.screened_patient(clinician=clinic.clinicians[0])
    elsewhere = session_add(
        patient=third, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday + dt.timedelta(days=1), 9),
    )  # fmt: skip
    appointment_add(elsewhere, factories.staff(Role.THERAPIST))
    session_hold(session_id=held.pk, reason="Blood pressure 168/102 before dosing")
    start, end = at(monday, 0), at(monday + dt.timedelta(days=7), 0)

    therapist = calendar(client_for(clinic.therapists[0].user), start, end)
    clinician = calendar(client_for(clinic.clinicians[0].user), start, end)

    # Infusions are not the therapists' business (the policy's calendar rows, as in sessions/).
    assert by_type(therapist, "session") == []
    assert by_type(therapist, "maintenance_session") == []
    assert "Blood pressure" not in str(therapist)
    # Their own appointment only, never another therapist's.
    assert [a["id"] for a in by_type(therapist, "integration_appointment")] == [mine.pk]
    # Every open window, where they book (the held session's window is cancelled).
    assert len(by_type(therapist, "integration_window")) == 2
    full = {s["id"]: s["details"] for s in by_type(clinician, "session")}
    assert full[held.pk]["hold_reason"] == "Blood pressure 168/102 before dosing"
    # The front desk books around a held session but never reads why it was held.
    front_desk = calendar(client_for(clinic.front_desk.user), start, end)
    desk = {s["id"]: s["details"] for s in by_type(front_desk, "session")}
    assert desk[held.pk] == {
        "course_id": held.course_id,
        "sequence": held.sequence,
        "ride_home_confirmed": False,
        "confirmed": False,
    }
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
        CALENDAR_URL,
        {"start": start.isoformat(), "end": end.isoformat(), "type": ["session", "integration_appointment"]},
    )
    assert {(e["type"], e["id"]) for e in both.json()["events"]} == {
        ("session", first.pk),
        ("integration_appointment", appointment.pk),
    }
    assert ids(chair=f"{clinic.chairs[0].pk},{clinic.chairs[1].pk}", type="session,maintenance_session") == {
        ("session", first.pk),
        ("maintenance_session", second.pk),
    }
