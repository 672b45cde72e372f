"""Fixtures of the calendar and feed tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import factories
from tests.calendars.calendar_data import client_for, session_add
from tests.conftest import at


@pytest.fixture
def front_desk(clinic: factories.Clinic) -> Any:
    return client_for(clinic.front_desk.user)


@pytest.fixture
def feed_clock(settings: Any, now: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed's horizon runs from the services' clock (the Friday before the test Monday)."""
    settings.CALENDAR_UID_DOMAIN = "clinic.example.org"
    monkeypatch.setattr("api.calendars.views.timezone.now", lambda: now)


@pytest.fixture
def booked(clinic: factories.Clinic, patient: Any, monday: dt.date) -> Any:
    return session_add(
        patient=patient,
        protocol=clinic.protocol,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=at(monday, 10),
    )
