"""iCalendar text: parsed with a real RFC 5545 parser, CRLF line ends, folding and escaping."""

from __future__ import annotations

import re
from typing import Any

import pytest

from calendars.ical import escape_text, fold
from tests import factories
from tests.calendars.calendar_data import client_for, issue, read

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_clock")]


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
