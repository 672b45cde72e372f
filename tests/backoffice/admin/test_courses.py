"""The admin of patients, screenings, protocols and courses: pages render, writes go through services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from backoffice.admin.courses import MSG_REASON_REQUIRED
from courses.models import Course
from patients.models import Contraindication, Screening
from sessions.models import IntegrationWindow, TreatmentSession
from tests import factories

pytestmark = pytest.mark.django_db

COURSES = "admin:courses_course_changelist"


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_patient_search_by_name_phone_and_email(staff_client: Client, clinic: factories.Clinic) -> None:
    wanted = factories.PatientFactory(first_name="Rowan", last_name="Quill", phone="+15559990001")
    factories.PatientFactory(first_name="Other", last_name="Person")
    url = reverse("admin:patients_patient_changelist")
    for term in ("Quill", "Rowan", "+15559990001", wanted.email):
        response = staff_client.get(url, {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [wanted], term


def test_patient_change_page_renders(staff_client: Client, patient: Any) -> None:
    response = staff_client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    assert response.status_code == 200
    assert response.context["original"] == patient


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


def test_screening_is_recorded_through_the_service(superuser: Client, patient: Any, clinic: factories.Clinic) -> None:
    url = reverse("admin:patients_screening_add")
    base = {
        "patient": patient.pk,
        "clinician": clinic.clinicians[0].user.pk,
        "performed_on": "2031-05-01",
        "valid_until": "2031-12-01",
        "outcome": "eligible",
        "informed_consent_off_label": "on",
        "notes": "",
    }
    before = Screening.objects.count()
    # Eligible with a contraindication left unchecked: the service refuses, nothing is written.
    response = superuser.post(url, {**base, "contraindications_checked": ["pregnancy"]})
    assert response.status_code == 200
    assert "Eligibility needs every contraindication checked" in response.content.decode()
    assert Screening.objects.count() == before
    response = superuser.post(url, {**base, "contraindications_checked": list(Contraindication.values)})
    assert response.status_code == 302
    assert Screening.objects.count() == before + 1
    recorded = Screening.objects.latest("id")
    assert recorded.outcome == Screening.Outcome.ELIGIBLE
    assert sorted(recorded.contraindications_checked) == sorted(Contraindication.values)


def test_screening_and_protocol_pages_render(staff_client: Client, patient: Any, clinic: factories.Clinic) -> None:
    screening = patient.screenings.get()
    for url in (
        reverse("admin:patients_screening_changelist"),
        reverse("admin:patients_screening_change", args=[screening.pk]),
        reverse("admin:courses_treatmentprotocol_changelist"),
        reverse("admin:courses_treatmentprotocol_change", args=[clinic.protocol.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url
