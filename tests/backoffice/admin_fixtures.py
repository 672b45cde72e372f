"""Fixtures the admin tests share: a logged-in front desk and superuser, and a booked course."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.roles import roles_ensure
from courses.models import Course
from sessions.services.booking import course_plan_and_book
from tests import factories


@pytest.fixture
def front_desk(clinic: factories.Clinic) -> Client:
    roles_ensure()
    client = Client()
    client.force_login(clinic.front_desk.user)
    return client


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456"))
    return client


@pytest.fixture(params=["front_desk", "superuser"])
def staff_client(request: pytest.FixtureRequest) -> Client:
    return request.getfixturevalue(request.param)


@pytest.fixture
def course(clinic: factories.Clinic, patient: Any, monday: dt.date, now: dt.datetime) -> Course:
    """Six sessions from ``monday`` (2031, so in the future for the admin's real clock)."""
    return course_plan_and_book(patient=patient, protocol=clinic.protocol, first_date=monday, now=now)
