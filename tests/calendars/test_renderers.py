"""The JSON calendar and the iCalendar feed render the same events alike: ids, times, titles, states."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from icalendar import Calendar

from calendars.events import CalendarQuery, Event
from calendars.ical import ical_calendar
from calendars.json import events_json, link_prefixes
from calendars.reader import calendar_read
from calendars.visibility import Viewer, Visibility
from clinic.models import ClosureDay
from sessions.models import TreatmentSession
from sessions.services.lifecycle import session_cancel
from tests import factories
from tests.calendars.calendar_data import (
    appointment_add,
    calendar,
    client_for,
    issue,
    read,
    session_add,
)
from tests.conftest import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_clock")]

UID_KINDS = {"maintenance_session": "session", "integration_window": "integration-window"}


def as_json(events: list[Event]) -> dict[tuple[str, int], tuple[Any, ...]]:
    """(kind in a UID, id) -> (start, end, title, cancelled, revision) as the JSON renderer says them."""
    out = {}
    for event in events_json(events, links=link_prefixes(lambda path: f"http://testserver{path}")):
        start, end = event["start"], event["end"]
        if event["all_day"]:
            start, end = start.date(), end.date()
        kind = UID_KINDS.get(event["type"], event["type"]).replace("_", "-")
        out[kind, event["id"]] = (start, end, event["title"], event["status"] == "cancelled", event["revision"])
    return out


def as_ical(text: str) -> dict[tuple[str, int], tuple[Any, ...]]:
    """The same tuple, read back from the iCalendar text by a real RFC 5545 parser."""
    out = {}
    for vevent in Calendar.from_ical(text).walk("VEVENT"):
        kind, _, pk = str(vevent["UID"]).split("@")[0].rpartition("-")
        out[kind, int(pk)] = (
            vevent.decoded("DTSTART"),
            vevent.decoded("DTEND"),
            str(vevent["SUMMARY"]),
            str(vevent["STATUS"]) == "CANCELLED",
            int(vevent["SEQUENCE"]),
        )
    return out


def test_json_and_ical_renderers_of_the_same_events_agree(
    clinic: factories.Clinic, patient: Any, monday: dt.date, now: dt.datetime
) -> None:
    induction = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinic.clinicians[0],
        starts_at=at(monday, 9),
    )  # fmt: skip
    maintenance = session_add(
        patient=patient, protocol=clinic.protocol, chair=clinic.chairs[1], clinician=clinic.clinicians[0],
        starts_at=at(monday + dt.timedelta(days=3), 9), phase=TreatmentSession.Phase.MAINTENANCE,
    )  # fmt: skip
    appointment_add(induction, clinic.therapists[0])
    session_cancel(session_id=maintenance.pk, reason="Patient asked", now=now)
    closure = ClosureDay.objects.create(date=monday + dt.timedelta(days=4), reason="Staff training")
    query = CalendarQuery(start=at(monday, 0), end=at(monday + dt.timedelta(days=7), 0), include_cancelled=True)

    events = calendar_read(query=query, viewer=Viewer(Visibility.FULL))
    json_side = as_json(events)
    ical_side = as_ical(ical_calendar(events, now=now, for_staff=True))

    assert len(events) == 6  # two sessions and their windows, an appointment, a closure
    assert ical_side == json_side
    initials = f" · {patient.first_name[0]}.{patient.last_name[0]}.".upper()
    assert json_side["session", maintenance.pk][2:4] == ("Maintenance visit" + initials, True)
    assert json_side["closure", closure.pk][:3] == (
        monday + dt.timedelta(days=4),
        monday + dt.timedelta(days=5),
        "Clinic closed",
    )


def test_a_clinicians_feed_and_their_calendar_agree_on_their_sessions(
    clinic: factories.Clinic, patient: Any, monday: dt.date
) -> None:
    clinician = clinic.clinicians[0]
    for day, phase in ((0, TreatmentSession.Phase.INDUCTION), (2, TreatmentSession.Phase.MAINTENANCE)):
        session_add(
            patient=patient, protocol=clinic.protocol, chair=clinic.chairs[0], clinician=clinician,
            starts_at=at(monday + dt.timedelta(days=day), 9), phase=phase,
        )  # fmt: skip
    client = client_for(clinician.user)
    start, end = at(monday, 0), at(monday + dt.timedelta(days=7), 0)

    body = calendar(client, start, end, clinician=clinician.pk, include_cancelled="true")
    _, feed = read(issue(client)["url"])

    shown = {
        ("session", e["id"]): (dt.datetime.fromisoformat(e["start"]), dt.datetime.fromisoformat(e["end"]), e["title"])
        for e in body["events"]
    }
    fed = {}
    for vevent in feed.walk("VEVENT"):
        kind, _, pk = str(vevent["UID"]).split("@")[0].rpartition("-")
        fed[kind, int(pk)] = (vevent.decoded("DTSTART"), vevent.decoded("DTEND"), str(vevent["SUMMARY"]))
    assert len(shown) == 2
    assert fed == shown
