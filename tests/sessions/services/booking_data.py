"""Helpers of the session services' tests: requests for a course, and refusals that write nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from courses.models import Course
from ketaminecare.errors import (
    DomainError,
)
from patients.models import Screening
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.services.proposal import SessionRequest
from tests import factories
from tests.conftest import at

UTC = dt.UTC
MWF = (0, 2, 4, 7, 9, 11)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def requests(
    monday: dt.date, chair: Any, clinician: Any, *, offsets: tuple[int, ...] = MWF, hour: int = 8
) -> list[SessionRequest]:
    return [SessionRequest(at(monday + days(o), hour), chair.pk, clinician.pk) for o in offsets]


def row_counts() -> dict[str, int]:
    models: list[Any] = [Course, Screening, TreatmentSession, IntegrationWindow, IntegrationAppointment, RuleOverride]
    return {model.__name__: model.objects.count() for model in models}


def assert_refused(call: Callable[[], object], error: type[DomainError], rule: str, field: str | None) -> DomainError:
    """The call raises exactly ``error`` naming ``rule`` and ``field``, and writes no row."""
    before = row_counts()
    with pytest.raises(DomainError) as caught:
        call()
    assert type(caught.value) is error, caught.value
    assert (caught.value.rule, caught.value.field) == (rule, field)
    assert caught.value.message
    assert row_counts() == before
    return caught.value


def first_session(course: Course) -> TreatmentSession:
    return course.sessions.order_by("sequence").first()


def other_patient(clinic) -> Any:
    return factories.screened_patient(clinician=clinic.clinicians[0])


def override_user() -> Any:
    user = factories.UserFactory()
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="treatment_sessions", codename="override_course_rules")
    )
    return user
