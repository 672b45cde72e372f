"""Measures' tests: a patient with a booked course, and the helpers to answer a questionnaire."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from courses.models import Course
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book
from tests import factories


@pytest.fixture
def course(clinic: factories.Clinic, patient: Any, monday: dt.date, now: dt.datetime) -> Course:
    return course_plan_and_book(
        patient=patient, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )


PHQ9_CALM = [1, 1, 0, 0, 0, 0, 0, 0, 0]
PHQ9_ITEM9 = [1, 1, 0, 0, 0, 0, 0, 0, 2]
