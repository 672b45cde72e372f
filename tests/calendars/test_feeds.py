"""What a feed holds: its owner's bookings, stable UIDs, a growing SEQUENCE, no name and no forbidden word."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendars.feeds import FeedOwner, feed_ical
from clinic.models import ClosureDay
from sessions.models import TreatmentSession
from sessions.services.integration import integration_appointment_move
from sessions.services.lifecycle import session_cancel
from sessions.services.reschedule import session_reschedule
from tests import factories
from tests.calendars.calendar_data import (
    appointment_add,
    bulk_sessions,
    client_for,
    issue,
    patient_login,
    read,
    vevents,
)
from tests.conftest import at

FORBIDDEN = ("ketamine", "esketamine", "infusion", "ptsd", "depression", "therapy", "psychiatric", "dose")

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_clock")]


def test_staff_feed_parses_and_keeps_its_uid_while_sequence_grows(
    clinic: factories.Clinic, booked: Any, monday: dt.date, now: dt.datetime
) -> None:
    clinician = client_for(clinic.clinicians[0].user)
    feed = issue(clinician)
    uid = f"session-{booked.pk}@clinic.example.org"

    raw, calendar = read(feed["url"])
    event = vevents(calendar)[uid]
    assert event.decoded("DTSTART") == at(monday, 10)
    assert event.decoded("DTEND") == at(monday, 11, 40)
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert b"DTSTART:20310602T140000Z\r\n" in raw
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == f"Clinic appointment · {booked.patient.first_name[0]}.T."
    assert clinic.chairs[0].name in str(event["LOCATION"])

    session_reschedule(session_id=booked.pk, starts_at=at(monday + dt.timedelta(days=1), 14), now=now)
    _, calendar = read(feed["url"])
    moved = vevents(calendar)[uid]
    assert moved.decoded("DTSTART") == at(monday + dt.timedelta(days=1), 14)
    assert int(moved["SEQUENCE"]) == 1

    session_cancel(session_id=booked.pk, now=now)
    _, calendar = read(feed["url"])
    cancelled = vevents(calendar)[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2
    assert len(vevents(calendar)) == 1


def test_therapist_feed_moves_an_appointment_and_carries_closures_as_all_day(
    clinic: factories.Clinic, booked: Any, monday: dt.date, now: dt.datetime
) -> None:
    appointment = appointment_add(booked, clinic.therapists[0], after_opening=1)
    closure = ClosureDay.objects.create(date=monday + dt.timedelta(days=3), reason="Staff training")
    feed = issue(client_for(clinic.therapists[0].user))
    uid = f"integration-appointment-{appointment.pk}@clinic.example.org"

    _, calendar = read(feed["url"])
    found = vevents(calendar)
    assert set(found) == {uid, f"closure-{closure.pk}@clinic.example.org"}
    assert int(found[uid]["SEQUENCE"]) == 0
    closed = found[f"closure-{closure.pk}@clinic.example.org"]
    assert closed.decoded("DTSTART") == monday + dt.timedelta(days=3)
    assert closed.decoded("DTEND") == monday + dt.timedelta(days=4)

    later = appointment.starts_at + dt.timedelta(hours=2)
    integration_appointment_move(appointment_id=appointment.pk, starts_at=later, now=now)
    _, calendar = read(feed["url"])
    moved = vevents(calendar)[uid]
    assert moved.decoded("DTSTART") == later
    assert int(moved["SEQUENCE"]) == 1
    assert str(moved["SUMMARY"]).startswith("Follow-up appointment")


def test_patient_feed_names_nobody_and_has_no_forbidden_word(
    clinic: factories.Clinic, booked: Any, settings: Any
) -> None:
    # Free text an administrator typed with a forbidden word in it never reaches a feed.
    settings.CLINIC_NAME = "Riverside Ketamine & Infusion Center"
    clinic.chairs[0].name = "Ketamine infusion chair 1"
    clinic.chairs[0].save()
    appointment_add(booked, clinic.therapists[0])
    patient = booked.patient
    feed = issue(client_for(patient_login(patient)))

    raw, calendar = read(feed["url"])
    text = raw.decode().lower()
    for word in FORBIDDEN:
        assert word not in text, word
    assert patient.first_name.lower() not in text
    assert clinic.therapists[0].display_name.lower() not in text
    summaries = sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))
    assert summaries == ["Clinic appointment", "Follow-up appointment"]
    assert all(settings.CLINIC_ADDRESS in str(e["LOCATION"]) for e in calendar.walk("VEVENT"))
    staff_raw, _ = read(issue(client_for(clinic.clinicians[0].user))["url"])
    for word in FORBIDDEN:
        assert word not in staff_raw.decode().lower(), word


def test_a_feed_reads_in_three_queries_for_staff_and_two_for_a_patient_whatever_its_length(
    clinic: factories.Clinic, monday: dt.date, now: dt.datetime
) -> None:
    def queries(owner: FeedOwner) -> int:
        with CaptureQueriesContext(connection) as captured:
            feed_ical(owner, now=now)
        return len(captured.captured_queries)

    clinician, therapist = clinic.clinicians[0], clinic.therapists[0]
    common = {"chair": clinic.chairs[0], "clinician": clinician, "therapist": therapist, "protocol": clinic.protocol}
    ClosureDay.objects.create(date=monday + dt.timedelta(days=30), reason="Holiday")
    bulk_sessions(count=12, first_day=monday, **common)
    patient = TreatmentSession.objects.first().patient
    staff_owner = FeedOwner(staff_id=clinician.pk, role=clinician.role)
    few = [queries(staff_owner), queries(FeedOwner(patient_id=patient.pk))]
    bulk_sessions(count=600, first_day=monday + dt.timedelta(days=1), **common)
    many = [queries(staff_owner), queries(FeedOwner(patient_id=patient.pk))]

    # Sessions, appointments (and for staff the closures): nothing per event.
    assert few == many == [3, 2]
    # The sessions the clinician gives, the appointments (every other window) the therapist holds.
    assert feed_ical(FeedOwner(staff_id=clinician.pk), now=now).count("BEGIN:VEVENT") == 612 + 1
    assert feed_ical(FeedOwner(staff_id=therapist.pk), now=now).count("BEGIN:VEVENT") == 306 + 1


def test_a_staff_feed_shows_patients_initials_never_their_names(clinic: factories.Clinic, booked: Any) -> None:
    appointment_add(booked, clinic.therapists[0])
    patient = booked.patient

    for member in (clinic.clinicians[0], clinic.therapists[0]):
        raw, calendar = read(issue(client_for(member.user))["url"])
        text = raw.decode()
        assert patient.first_name not in text
        assert patient.last_name not in text
        assert [str(e["SUMMARY"]).rsplit(" · ", 1)[1] for e in calendar.walk("VEVENT")] == [
            f"{patient.first_name[0]}.{patient.last_name[0]}."
        ]
