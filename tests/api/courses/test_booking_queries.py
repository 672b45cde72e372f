"""How many SQL statements a whole-course booking over the API costs: a count that does not
depend on the machine, pinned so that it stays flat whatever the course's length."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from courses.models import Course
from tests import factories

pytestmark = pytest.mark.django_db


def booking_queries(clinic: factories.Clinic, *, weeks: int) -> tuple[int, Course]:
    """Propose a course of ``weeks`` weeks at three sessions a week, then book it; the queries of
    the booking request alone."""
    protocol = factories.ProtocolFactory(
        weekly_cadence=[3] * weeks,
        induction_sessions_max=3 * weeks,
        induction_span_max_days=7 * weeks + 2,
    )
    patient = factories.screened_patient(clinician=clinic.clinicians[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=clinic.front_desk.user).key}")
    day = timezone.localdate() + dt.timedelta(days=7)
    first = day + dt.timedelta(days=(7 - day.weekday()) % 7)
    proposal = client.post(
        "/api/v1/courses/propose/",
        {"patient": patient.pk, "protocol": protocol.pk, "first_date": first.isoformat()},
        format="json",
    ).json()
    assert proposal["feasible"], proposal
    body: dict[str, Any] = {
        "patient": patient.pk,
        "protocol": protocol.pk,
        "sessions": [
            {"starts_at": s["starts_at"], "chair": s["chair"], "clinician": s["clinician"]}
            for s in proposal["sessions"]
        ],
    }
    with CaptureQueriesContext(connection) as queries:
        answer = client.post("/api/v1/courses/", body, format="json")
    assert answer.status_code == 201, answer.json()
    import os

    if os.environ.get("SHOWQ"):
        for q in queries.captured_queries:
            print("Q", q["sql"][:150])
    return len(queries), Course.objects.get(pk=answer.json()["id"])


def test_booking_a_course_costs_the_same_queries_whatever_its_length(clinic: factories.Clinic):
    six, course_of_six = booking_queries(clinic, weeks=2)
    twelve, course_of_twelve = booking_queries(clinic, weeks=4)
    assert course_of_six.sessions.count() == 6 and course_of_twelve.sessions.count() == 12
    assert course_of_twelve.sessions.filter(integration_window__isnull=False).count() == 12
    # Sign-in and roles 2, the input 4, the rules and the clinic's state 12, the writes 3, the
    # reminders 8, the one booking notice 3, the answer and its audit row 4, and the savepoint pair.
    # It was 73 and 115.
    assert (six, twelve) == (38, 38)
