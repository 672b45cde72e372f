"""A small clinic seen through the API: one login per role and two patients with a course each.

Patient A's course, first session, window and booked integration appointment are the objects the
permission matrix asks about; patient B is the neighbour whose rows must never show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.services import token_issue
from courses.models import Course
from ketaminecare.roles import Role
from patients.models import Patient
from sessions.models import IntegrationAppointment, IntegrationWindow, RescheduleRequest, TreatmentSession
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book
from sessions.services.integration import window_appointment_book
from tests import factories
from tests.conftest import at

ROLES = ["anonymous", "patient_a", "patient_b", "therapist", "clinician", "front_desk", "administrator"]


@dataclass
class World:
    clinic: factories.Clinic
    users: dict[str, Any]
    patient_a: Patient
    patient_b: Patient
    course_a: Course
    course_b: Course
    session_a: TreatmentSession
    session_b: TreatmentSession
    window_a: IntegrationWindow
    window_b: IntegrationWindow
    appointment_a: IntegrationAppointment
    request_a: RescheduleRequest
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        client = APIClient()
        user = self.users[role]
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user).key}")
        return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    from django.core.cache import cache

    cache.clear()


def patient_login(patient: Patient, username: str) -> Any:
    user: Any = factories.UserFactory(username=username)
    user.groups.add(Group.objects.get_or_create(name=Role.PATIENT)[0])
    patient.user = user
    patient.save(update_fields=["user"])
    return user


def build_world(clinic: factories.Clinic, monday: dt.date, now: dt.datetime) -> World:
    clinician = clinic.clinicians[0]
    patient_a = factories.screened_patient(clinician=clinician, first_name="Avery", last_name="Alpha")
    patient_b = factories.screened_patient(clinician=clinician, first_name="Blake", last_name="Beta")
    administrator = factories.UserFactory(username="administrator", is_staff=True)
    administrator.groups.add(Group.objects.get_or_create(name=Role.ADMINISTRATOR)[0])
    users = {
        "anonymous": None,
        "patient_a": patient_login(patient_a, "patient.a"),
        "patient_b": patient_login(patient_b, "patient.b"),
        "therapist": clinic.therapists[0].user,
        "clinician": clinician.user,
        "front_desk": clinic.front_desk.user,
        "administrator": administrator,
    }
    course_a = course_plan_and_book(
        patient=patient_a, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )
    course_b = course_plan_and_book(
        patient=patient_b, protocol=clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )
    session_a = course_a.sessions.order_by("sequence").first()
    session_b = course_b.sessions.order_by("sequence").first()
    assert session_a is not None and session_b is not None
    window_a = IntegrationWindow.objects.get(session=session_a)
    window_b = IntegrationWindow.objects.get(session=session_b)
    appointment_a = window_appointment_book(
        window_id=window_a.pk,
        therapist_id=clinic.therapists[0].pk,
        starts_at=at(monday + dt.timedelta(days=1), 14),
        now=now,
    )
    request_a = RescheduleRequest.objects.create(patient=patient_a, session=session_a, message="Can we move it?")
    return World(
        clinic=clinic,
        users=users,
        patient_a=patient_a,
        patient_b=patient_b,
        course_a=course_a,
        course_b=course_b,
        session_a=session_a,
        session_b=session_b,
        window_a=window_a,
        window_b=window_b,
        appointment_a=appointment_a,
        request_a=request_a,
    )


@pytest.fixture
def world(clinic: factories.Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)
