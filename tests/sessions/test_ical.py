"""iCalendar feeds: parsed with a real RFC 5545 parser, stable UIDs, growing SEQUENCE, tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

from audit.models import AuditEvent
from calendars.models import CalendarFeed
from clinic.models import ClosureDay
from ketaminecare.roles import Role
from sessions.feeds import escape_text, fold
from sessions.services.booking import session_reschedule
from sessions.services.integration import integration_appointment_move
from sessions.services.lifecycle import session_cancel
from tests import factories
from tests.conftest import at
from tests.sessions.calendar_data import appointment_add, client_for, patient_login, session_add

pytestmark = pytest.mark.django_db

FEEDS = "/api/v1/feeds/"
FORBIDDEN = ("ketamine", "esketamine", "infusion", "ptsd", "depression", "therapy", "psychiatric", "dose")


@pytest.fixture(autouse=True)
def _clock(settings: Any, now: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed's horizon runs from the services' clock (the Friday before the test Monday)."""
    settings.CALENDAR_UID_DOMAIN = "clinic.example.org"
    monkeypatch.setattr("sessions.api.calendar_views.timezone.now", lambda: now)


def issue(client: APIClient, **owner: int) -> dict[str, Any]:
    response = client.post(FEEDS, owner, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def read(url: str) -> tuple[bytes, Calendar]:
    response = APIClient().get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content, Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def booked(clinic: factories.Clinic, patient: Any, monday: dt.date) -> Any:
    return session_add(
        patient=patient,
        protocol=clinic.protocol,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=at(monday, 10),
    )


def test_staff_feed_parses_and_keeps_its_uid_while_sequence_grows(
    clinic: factories.Clinic, booked: Any, monday: dt.date, now: dt.datetime
) -> None:
    clinician = client_for(clinic.clinicians[0].user)
    feed = issue(clinician)
    uid = f"session-{booked.pk}@clinic.example.org"

    raw, calendar = read(feed["url"])
    event = events(calendar)[uid]
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
    moved = events(calendar)[uid]
    assert moved.decoded("DTSTART") == at(monday + dt.timedelta(days=1), 14)
    assert int(moved["SEQUENCE"]) == 1

    session_cancel(session_id=booked.pk, now=now)
    _, calendar = read(feed["url"])
    cancelled = events(calendar)[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2
    assert len(events(calendar)) == 1


def test_every_feed_read_is_in_the_audit_trail_with_the_patients_it_showed(
    clinic: factories.Clinic, booked: Any, patient: Any
) -> None:
    staff_feed = issue(client_for(clinic.clinicians[0].user))
    empty_feed = issue(client_for(clinic.clinicians[1].user))  # nobody booked with them
    own_feed = issue(client_for(patient_login(patient)))

    for feed in (staff_feed, empty_feed, own_feed):
        read(feed["url"])

    trail = AuditEvent.objects.filter(channel=AuditEvent.Channel.FEED).order_by("id")
    assert [(e.object_id, e.patient_ids, e.action) for e in trail] == [
        (str(staff_feed["id"]), [patient.pk], AuditEvent.Action.VIEW),
        (str(own_feed["id"]), [patient.pk], AuditEvent.Action.VIEW),
    ]
    assert all(e.object_type == "calendars.calendarfeed" and e.status_code == 200 for e in trail)
    # The URL is the feed's credential: the trail names the feed by id and never keeps its token.
    tokens = [feed["url"].rsplit("/", 1)[1].removesuffix(".ics") for feed in (staff_feed, own_feed)]
    assert all(e.path == "/api/v1/feeds/***.ics" for e in trail)
    assert not any(token in str(e.__dict__) for token in tokens for e in trail)


@pytest.mark.parametrize("closed", ["staff_member", "staff_user"])
def test_a_staff_feed_ends_when_its_owner_is_deactivated(clinic: factories.Clinic, booked: Any, closed: str) -> None:
    member = clinic.clinicians[0]
    feed = issue(client_for(member.user))
    read(feed["url"])
    if closed == "staff_member":
        member.is_active = False
        member.save(update_fields=["is_active"])
    else:
        member.user.is_active = False
        member.user.save(update_fields=["is_active"])
    assert APIClient().get(feed["url"]).status_code == 404


def test_a_patient_feed_ends_when_their_account_is_closed(clinic: factories.Clinic, booked: Any, patient: Any) -> None:
    user = patient_login(patient)
    feed = issue(client_for(user))
    read(feed["url"])
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert APIClient().get(feed["url"]).status_code == 404


def test_no_feed_is_issued_for_an_inactive_person(clinic: factories.Clinic, patient: Any) -> None:
    desk = client_for(clinic.front_desk.user)
    member = clinic.clinicians[1]
    member.is_active = False
    member.save(update_fields=["is_active"])
    refused = desk.post(FEEDS, {"staff": member.pk}, format="json")
    assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (409, "feed_owner_active", "staff")
    user = patient_login(patient)
    user.is_active = False
    user.save(update_fields=["is_active"])
    refused = desk.post(FEEDS, {"patient": patient.pk}, format="json")
    assert (refused.status_code, refused.json()["rule"]) == (409, "feed_owner_active")
    assert not CalendarFeed.objects.exists()


def test_therapist_feed_moves_an_appointment_and_carries_closures_as_all_day(
    clinic: factories.Clinic, booked: Any, monday: dt.date, now: dt.datetime
) -> None:
    appointment = appointment_add(booked, clinic.therapists[0], after_opening=1)
    closure = ClosureDay.objects.create(date=monday + dt.timedelta(days=3), reason="Staff training")
    feed = issue(client_for(clinic.therapists[0].user))
    uid = f"integration-appointment-{appointment.pk}@clinic.example.org"

    _, calendar = read(feed["url"])
    found = events(calendar)
    assert set(found) == {uid, f"closure-{closure.pk}@clinic.example.org"}
    assert int(found[uid]["SEQUENCE"]) == 0
    closed = found[f"closure-{closure.pk}@clinic.example.org"]
    assert closed.decoded("DTSTART") == monday + dt.timedelta(days=3)
    assert closed.decoded("DTEND") == monday + dt.timedelta(days=4)

    later = appointment.starts_at + dt.timedelta(hours=2)
    integration_appointment_move(appointment_id=appointment.pk, starts_at=later, now=now)
    _, calendar = read(feed["url"])
    moved = events(calendar)[uid]
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


def test_feed_lines_are_crlf_and_folded_at_75_octets(clinic: factories.Clinic, booked: Any, settings: Any) -> None:
    settings.CLINIC_ADDRESS = (
        "Bâtiment Nord, 1200 Boulevard de la Côte-des-Neiges; suite 4, étage 2 — entrée C, Montréal"
    )
    feed = issue(client_for(clinic.clinicians[0].user))

    raw, calendar = read(feed["url"])

    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert not re.search(rb"[^\r]\n", raw)
    assert any(line.startswith(b" ") for line in lines)  # the address was folded
    raw.decode("utf-8")  # never folded inside a character
    [event] = calendar.walk("VEVENT")
    assert settings.CLINIC_ADDRESS in str(event["LOCATION"])


def test_fold_and_escape_follow_rfc_5545() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "é" * 60
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
    assert fold("UID:short") == "UID:short"


def test_revoked_and_unknown_tokens_answer_404(clinic: factories.Clinic, booked: Any) -> None:
    client = client_for(clinic.clinicians[0].user)
    feed = issue(client)
    read(feed["url"])

    response = client.post(f"{FEEDS}{feed['id']}/revoke/")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None

    gone = APIClient().get(feed["url"])
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"
    assert APIClient().get(f"{FEEDS}{'x' * 43}.ics").status_code == 404
    assert client.post(f"{FEEDS}{feed['id']}/revoke/").status_code == 409


def test_rotate_makes_the_old_token_404_and_the_new_one_work(clinic: factories.Clinic, booked: Any) -> None:
    client = client_for(clinic.clinicians[0].user)
    old = issue(client)

    response = client.post(f"{FEEDS}{old['id']}/rotate/")

    assert response.status_code == 201
    new = response.json()
    assert new["token"] != old["token"]
    assert APIClient().get(old["url"]).status_code == 404
    read(new["url"])


def test_only_the_tokens_hash_is_stored_and_a_new_feed_revokes_the_last(clinic: factories.Clinic, booked: Any) -> None:
    client = client_for(clinic.clinicians[0].user)
    first = issue(client)
    second = issue(client)

    stored = CalendarFeed.objects.get(pk=second["id"])
    assert stored.token_hash == hashlib.sha256(second["token"].encode()).hexdigest()
    assert second["token"] not in stored.token_hash
    assert CalendarFeed.objects.get(pk=first["id"]).revoked_at is not None
    assert APIClient().get(first["url"]).status_code == 404
    listed = client.get(FEEDS).json()
    assert {f["id"] for f in listed["results"]} == {first["id"], second["id"]}
    assert "token" not in str(listed)


def test_who_may_manage_which_feed(clinic: factories.Clinic, booked: Any) -> None:
    alice = booked.patient
    bob = factories.screened_patient(clinician=clinic.clinicians[0])
    alice_client = client_for(patient_login(alice))
    bob_client = client_for(patient_login(bob))
    clinician = client_for(clinic.clinicians[0].user)
    front_desk = client_for(clinic.front_desk.user)
    admin = client_for(factories.StaffMemberFactory(role=Role.ADMINISTRATOR).user)

    # A patient: their own feed only; another patient's id answers 404.
    own = issue(alice_client)
    assert own["patient"] == alice.pk and own["staff"] is None
    assert alice_client.post(FEEDS, {"patient": bob.pk}, format="json").status_code == 404
    assert alice_client.post(FEEDS, {"staff": clinic.clinicians[0].pk}, format="json").status_code == 403
    assert bob_client.post(f"{FEEDS}{own['id']}/rotate/").status_code == 404
    assert bob_client.post(f"{FEEDS}{own['id']}/revoke/").status_code == 404
    assert bob_client.get(FEEDS).json()["results"] == []
    # A clinician: their own feed, nobody else's.
    refused = clinician.post(FEEDS, {"staff": clinic.clinicians[1].pk}, format="json")
    assert refused.status_code == 403 and refused.json()["field"] == "staff"
    assert clinician.post(FEEDS, {"patient": alice.pk}, format="json").status_code == 403
    assert clinician.post(f"{FEEDS}{own['id']}/rotate/").status_code == 404
    # Front desk and administrators: any staff member's and any patient's feed.
    for manager in (front_desk, admin):
        assert issue(manager, patient=bob.pk)["patient"] == bob.pk
        assert issue(manager, staff=clinic.clinicians[1].pk)["staff"] == clinic.clinicians[1].pk
    assert front_desk.post(f"{FEEDS}{own['id']}/rotate/").status_code == 201
    assert front_desk.post(FEEDS, {"patient": 10**9}, format="json").status_code == 404
    both = front_desk.post(FEEDS, {"patient": bob.pk, "staff": clinic.clinicians[1].pk}, format="json")
    assert both.status_code == 400
    assert front_desk.post(FEEDS, {"owner": 1}, format="json").status_code == 400
    # An administrator without a staff record has no calendar of their own to default to.
    superuser = factories.UserFactory(is_superuser=True)
    assert client_for(superuser).post(FEEDS, {}, format="json").json()["rule"] == "owner_required"
    assert APIClient().post(FEEDS, {}, format="json").status_code == 401
