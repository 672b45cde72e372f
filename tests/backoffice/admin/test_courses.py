"""The admin of courses: pages render, fields stay as they are, cancelling goes through the service."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from backoffice.admin.courses import MSG_REASON_REQUIRED
from courses.models import Course
from sessions.models import IntegrationWindow, TreatmentSession
from tests import factories

pytestmark = pytest.mark.django_db

COURSES = "admin:courses_course_changelist"


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_course_changelist_filters_and_search(staff_client: Client, course: Course, clinic: factories.Clinic) -> None:
    url = reverse(COURSES)
    for query, count in (
        ({}, 1),
        ({"status__exact": "planned"}, 1),
        ({"status__exact": "cancelled"}, 0),
        ({"protocol__id__exact": clinic.protocol.pk}, 1),
        ({"q": course.patient.first_name}, 1),
        ({"q": "nobody-by-that-name"}, 0),
    ):
        response = staff_client.get(url, query)
        assert response.status_code == 200, query
        assert response.context["cl"].result_count == count, query


def test_course_change_page_shows_its_sessions_read_only_in_clinic_time(staff_client: Client, course: Course) -> None:
    response = staff_client.get(reverse("admin:courses_course_change", args=[course.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # Monday 2 June 2031 08:00 in New York (EDT), not the UTC 12:00 stored.
    assert "2031-06-02 08:00 EDT" in html
    assert 'name="sessions-0-starts_at' not in html
    assert 'name="status"' not in html
    assert "0 done, 0 no-show, 0 integration attended" in html


def test_course_fields_cannot_be_changed_by_a_post(superuser: Client, course: Course) -> None:
    superuser.post(
        reverse("admin:courses_course_change", args=[course.pk]),
        {"status": "completed", "cancel_reason": "x", "sessions-TOTAL_FORMS": "0", "sessions-INITIAL_FORMS": "0"},
    )
    course.refresh_from_db()
    assert course.status == Course.Status.PLANNED
    assert course.cancel_reason == ""


def test_cancel_course_asks_for_a_reason_first(staff_client: Client, course: Course) -> None:
    response = staff_client.post(reverse(COURSES), {"action": "cancel_courses", "_selected_action": [course.pk]})
    assert response.status_code == 200
    assert "reason" in response.context["form"].fields
    course.refresh_from_db()
    assert course.status == Course.Status.PLANNED


def test_cancel_course_with_an_empty_reason_changes_nothing(staff_client: Client, course: Course) -> None:
    response = staff_client.post(
        reverse(COURSES), {"action": "cancel_courses", "_selected_action": [course.pk], "reason": "  "}
    )
    assert response.status_code == 200
    assert MSG_REASON_REQUIRED in texts(response)
    course.refresh_from_db()
    assert course.status == Course.Status.PLANNED


def test_cancel_course_goes_through_the_service(staff_client: Client, course: Course) -> None:
    response = staff_client.post(
        reverse(COURSES),
        {"action": "cancel_courses", "_selected_action": [course.pk], "reason": "Patient moved away."},
        follow=True,
    )
    assert response.status_code == 200
    course.refresh_from_db()
    assert course.status == Course.Status.CANCELLED
    assert course.cancel_reason == "Patient moved away."
    assert not course.sessions.exclude(status=TreatmentSession.Status.CANCELLED).exists()
    assert not IntegrationWindow.objects.filter(session__course=course, cancelled_at__isnull=True).exists()
    assert "1 course cancelled." in texts(response)


def test_cancelling_a_cancelled_course_is_refused_with_a_message(staff_client: Client, course: Course) -> None:
    data = {"action": "cancel_courses", "_selected_action": [course.pk], "reason": "First time."}
    staff_client.post(reverse(COURSES), data)
    response = staff_client.post(reverse(COURSES), {**data, "reason": "Again."}, follow=True)
    assert response.status_code == 200
    assert any("cannot be cancelled" in t for t in texts(response))
    course.refresh_from_db()
    assert course.cancel_reason == "First time."
