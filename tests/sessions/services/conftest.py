"""Fixtures of the session services' tests: a booked course, a clinic open across a clock change."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import ClinicHours, WorkingHours
from courses.models import Course
from sessions.services.booking import course_book
from tests.sessions.services.booking_data import (
    requests,
)


@pytest.fixture
def course(clinic, patient, monday, now) -> Course:
    """Monday, Wednesday, Friday for two weeks at 08:00 in the first chair with the first clinician."""
    return course_book(
        patient=patient,
        protocol=clinic.protocol,
        sessions=requests(monday, clinic.chairs[0], clinic.clinicians[0]),
        now=now,
    )


@pytest.fixture
def open_sunday_nights(clinic) -> None:
    """Sunday 00:00-06:00 opening, so that a session can run across the 02:00 clock change."""
    ClinicHours.objects.create(weekday=6, opens=dt.time(0), closes=dt.time(6))
    WorkingHours.objects.create(staff=clinic.clinicians[0], weekday=6, starts=dt.time(0), ends=dt.time(6))
