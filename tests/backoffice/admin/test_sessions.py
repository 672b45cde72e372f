"""The calendar's admin: pages render, actions and the reschedule page go through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import roles_ensure
from courses.models import Course
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.selectors import clinic_zone
from sessions.services.booking import course_plan_and_book
from sessions.services.lifecycle import MSG_NO_SHOW_EARLY, MSG_TOO_EARLY
from tests import factories
from tests.conftest import at

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:treatment_sessions_treatmentsession_changelist"


def session_at(clinic: factories.Clinic, starts_at: dt.datetime) -> TreatmentSession:
    """A scheduled session (with its window) at any instant, written directly: the services
    refuse the past, and these tests need sessions that started already or start today."""
    patient = factories.screened_patient(clinician=clinic.clinicians[0])
    course = Course.objects.create(patient=patient, protocol=clinic.protocol, screening=patient.screenings.get())
    ends_at = starts_at + dt.timedelta(minutes=clinic.protocol.session_minutes)
    session = TreatmentSession.objects.create(
        course=course,
        patient=patient,
        sequence=1,
        chair=clinic.chairs[0],
        clinician=clinic.clinicians[0],
        starts_at=starts_at,
        ends_at=ends_at,
        local_date=timezone.localtime(starts_at, clinic_zone()).date(),
    )
    IntegrationWindow.objects.create(
        session=session,
        patient=patient,
        opens_at=ends_at + dt.timedelta(hours=24),
        closes_at=ends_at + dt.timedelta(hours=48),
    )
    return session


def act(client: Client, action: str, sessions: list[TreatmentSession]) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [s.pk for s in sessions]},
        follow=True,
    )


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# Pages


def test_session_changelist_renders_with_filters_and_search(staff_client: Client, course: Course) -> None:
    session = course.sessions.order_by("starts_at")[0]
    url = reverse(CHANGELIST)
    for query in (
        {},
        {"status__exact": "scheduled"},
        {"chair__id__exact": session.chair_id},
        {"clinician__id__exact": session.clinician_id},
        {"starts_at__gte": "2031-06-01 00:00:00-04:00", "starts_at__lt": "2031-06-30 00:00:00-04:00"},
        {"q": course.patient.last_name},
        {"starts_at__year": "2031", "starts_at__month": "6"},
    ):
        response = staff_client.get(url, query)
        assert response.status_code == 200, query
        assert response.context["cl"].result_count == 6, query
    # Shown on the clinic's wall clock: the first session is at 08:00 New York time (EDT).
    assert "2031-06-02 08:00 EDT" in staff_client.get(url).content.decode()
    assert staff_client.get(url, {"q": "nobody-by-that-name"}).context["cl"].result_count == 0


def test_session_changelist_queries_do_not_grow_with_rows(
    front_desk: Client, clinic: factories.Clinic, monday: dt.date, now: dt.datetime
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert front_desk.get(reverse(CHANGELIST)).status_code == 200
        return len(queries.captured_queries)

    first = factories.screened_patient(clinician=clinic.clinicians[0])
    course_plan_and_book(patient=first, protocol=clinic.protocol, first_date=monday, now=now)
    few = count()
    for _ in range(3):
        other = factories.screened_patient(clinician=clinic.clinicians[0])
        course_plan_and_book(patient=other, protocol=clinic.protocol, first_date=monday, now=now)
    assert TreatmentSession.objects.count() == 24
    assert count() == few


def test_session_change_page_renders_read_only_with_a_reschedule_link(staff_client: Client, course: Course) -> None:
    session = course.sessions.order_by("starts_at")[0]
    response = staff_client.get(reverse("admin:treatment_sessions_treatmentsession_change", args=[session.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("admin:treatment_sessions_treatmentsession_reschedule", args=[session.pk]) in html
    for field in ("starts_at", "ends_at", "chair", "clinician", "status"):
        assert f'name="{field}"' not in html


def test_session_protected_fields_cannot_be_changed_by_a_post(
    staff_client: Client, course: Course, clinic: factories.Clinic
) -> None:
    session = course.sessions.order_by("starts_at")[0]
    before = TreatmentSession.objects.values().get(pk=session.pk)
    response = staff_client.post(
        reverse("admin:treatment_sessions_treatmentsession_change", args=[session.pk]),
        {
            "starts_at_0": "2031-06-03",
            "starts_at_1": "12:00",
            "ends_at_0": "2031-06-03",
            "ends_at_1": "13:40",
            "chair": clinic.chairs[1].pk,
            "clinician": clinic.clinicians[1].pk,
            "status": "completed",
            "ride_home_confirmed": "on",
        },
    )
    assert response.status_code in (200, 302)
    after = TreatmentSession.objects.values().get(pk=session.pk)
    assert after == before


def test_sessions_and_courses_cannot_be_added_or_deleted_in_the_admin(staff_client: Client, course: Course) -> None:
    session = course.sessions.order_by("starts_at")[0]
    assert staff_client.get(reverse("admin:treatment_sessions_treatmentsession_add")).status_code == 403
    assert staff_client.get(reverse("admin:courses_course_add")).status_code == 403
    delete = reverse("admin:treatment_sessions_treatmentsession_delete", args=[session.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert TreatmentSession.objects.filter(pk=session.pk).exists()


@pytest.mark.parametrize(
    "name",
    [
        "clinic_chair",
        "clinic_clinichours",
        "clinic_closureday",
        "clinic_staffmember",
        "treatment_sessions_integrationwindow",
        "treatment_sessions_integrationappointment",
        "treatment_sessions_ruleoverride",
    ],
)
def test_calendar_changelists_render(superuser: Client, course: Course, name: str) -> None:
    assert superuser.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_staff_window_and_appointment_change_pages_render(
    superuser: Client, clinic: factories.Clinic, course: Course, now: dt.datetime
) -> None:
    session = course.sessions.order_by("starts_at")[0]
    window = session.integration_window
    appointment = IntegrationAppointment.objects.create(
        window=window,
        patient=course.patient,
        therapist=clinic.therapists[0],
        starts_at=window.opens_at + dt.timedelta(hours=1),
        ends_at=window.opens_at + dt.timedelta(hours=2),
    )
    for url in (
        reverse("admin:clinic_staffmember_change", args=[clinic.clinicians[0].pk]),
        reverse("admin:treatment_sessions_integrationwindow_change", args=[window.pk]),
        reverse("admin:treatment_sessions_integrationappointment_change", args=[appointment.pk]),
        reverse("admin:treatment_sessions_integrationwindow_changelist") + "?state=active",
    ):
        assert superuser.get(url).status_code == 200, url
    # Windows follow their sessions: nobody edits one here.
    assert (
        superuser.post(reverse("admin:treatment_sessions_integrationwindow_change", args=[window.pk]), {}).status_code
        == 403
    )


# Actions


def test_cancel_action_cancels_the_session_and_its_window(staff_client: Client, course: Course) -> None:
    session = course.sessions.order_by("starts_at")[0]
    response = act(staff_client, "cancel_sessions", [session])
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.CANCELLED
    assert IntegrationWindow.objects.get(session=session).cancelled_at is not None
    assert "1 treatment session cancelled." in texts(response)


def test_no_show_before_the_start_is_refused_with_a_message_and_changes_nothing(
    staff_client: Client, course: Course
) -> None:
    session = course.sessions.order_by("starts_at")[0]
    response = act(staff_client, "mark_no_show", [session])
    assert response.status_code == 200
    assert f"{session}: {MSG_NO_SHOW_EARLY}" in texts(response)
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.SCHEDULED
    assert IntegrationWindow.objects.get(session=session).cancelled_at is None


def test_no_show_after_the_start_goes_through_the_service(staff_client: Client, clinic: factories.Clinic) -> None:
    session = session_at(clinic, timezone.now() - dt.timedelta(hours=2))
    act(staff_client, "mark_no_show", [session])
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.NO_SHOW
    assert IntegrationWindow.objects.get(session=session).cancelled_at is not None


def test_check_in_works_on_the_day_and_is_refused_before(
    staff_client: Client, clinic: factories.Clinic, course: Course
) -> None:
    today = session_at(clinic, timezone.now() + dt.timedelta(minutes=1))
    later = course.sessions.order_by("starts_at")[0]
    response = act(staff_client, "check_in", [today, later])
    today.refresh_from_db()
    later.refresh_from_db()
    # A session a minute from now is on today's local date unless the clock is at 23:59.
    if timezone.localtime(today.starts_at, clinic_zone()).date() == timezone.localdate(timezone=clinic_zone()):
        assert today.status == TreatmentSession.Status.CHECKED_IN
    assert later.status == TreatmentSession.Status.SCHEDULED
    assert f"{later}: {MSG_TOO_EARLY}" in texts(response)


def test_confirm_ride_home_action(staff_client: Client, course: Course) -> None:
    sessions = list(course.sessions.order_by("starts_at")[:2])
    act(staff_client, "confirm_ride_home", sessions)
    assert TreatmentSession.objects.filter(pk__in=[s.pk for s in sessions], ride_home_confirmed=True).count() == 2


def test_a_therapist_sees_no_session_actions(client: Client, clinic: factories.Clinic, course: Course) -> None:
    roles_ensure()
    client.force_login(clinic.therapists[0].user)
    session = course.sessions.order_by("starts_at")[0]
    response = act(client, "cancel_sessions", [session])
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.status == TreatmentSession.Status.SCHEDULED


# The reschedule page


def reschedule(client: Client, session: TreatmentSession, **data: Any) -> Any:
    url = reverse("admin:treatment_sessions_treatmentsession_reschedule", args=[session.pk])
    return client.post(url, {"chair": "", "clinician": "", "override_reason": "", **data})


def test_reschedule_page_renders(staff_client: Client, course: Course) -> None:
    session = course.sessions.order_by("starts_at")[0]
    response = staff_client.get(reverse("admin:treatment_sessions_treatmentsession_reschedule", args=[session.pk]))
    assert response.status_code == 200
    assert response.context["form"].initial["time"] == dt.time(8, 0)


def test_reschedule_moves_the_session_and_its_window(staff_client: Client, course: Course, monday: dt.date) -> None:
    session = course.sessions.order_by("starts_at")[0]
    response = reschedule(staff_client, session, date=monday.isoformat(), time="14:00")
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == at(monday, 14)
    assert session.revision == 1
    window = IntegrationWindow.objects.get(session=session)
    assert window.opens_at == session.ends_at + dt.timedelta(hours=24)
    assert window.closes_at == session.ends_at + dt.timedelta(hours=48)


def test_reschedule_onto_taken_time_shows_the_error_and_changes_nothing(
    staff_client: Client, clinic: factories.Clinic, course: Course, monday: dt.date, now: dt.datetime
) -> None:
    other = factories.screened_patient(clinician=clinic.clinicians[0])
    course_plan_and_book(
        patient=other,
        protocol=clinic.protocol,
        first_date=monday,
        now=now,
    )
    taken = TreatmentSession.objects.filter(patient=other).order_by("starts_at").first()
    session = course.sessions.order_by("starts_at")[0]
    local = timezone.localtime(taken.starts_at, clinic_zone())
    response = reschedule(
        staff_client,
        session,
        date=local.date().isoformat(),
        time=local.strftime("%H:%M"),
        chair=taken.chair_id,
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    before = session.starts_at
    session.refresh_from_db()
    assert session.starts_at == before


def test_reschedule_breaking_a_course_rule_needs_an_authorised_override(
    front_desk: Client, superuser: Client, course: Course, monday: dt.date
) -> None:
    second = course.sessions.order_by("starts_at")[1]
    tuesday = monday + dt.timedelta(days=1)
    # Tuesday 08:00 is 24 h after the first session: the protocol asks for at least 40 h.
    response = reschedule(front_desk, second, date=tuesday.isoformat(), time="08:00")
    assert response.status_code == 200
    assert "the protocol asks for at least 40 h" in response.content.decode()
    response = reschedule(front_desk, second, date=tuesday.isoformat(), time="08:00", override_reason="Travel")
    assert response.status_code == 200
    assert "Only a clinician or an administrator may set a course rule aside." in response.content.decode()
    second.refresh_from_db()
    assert second.starts_at != at(tuesday, 8)
    response = reschedule(superuser, second, date=tuesday.isoformat(), time="08:00", override_reason="Travel")
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.starts_at == at(tuesday, 8)
    assert RuleOverride.objects.filter(session=second, rule="min_gap", reason="Travel").exists()


def test_reschedule_to_a_time_that_does_not_exist_is_refused(staff_client: Client, course: Course) -> None:
    session = course.sessions.order_by("starts_at")[0]
    # 2032-03-14 02:30 does not exist in New York (clocks jump from 02:00 to 03:00).
    response = reschedule(staff_client, session, date="2032-03-14", time="02:30")
    assert response.status_code == 200
    assert "does not exist" in response.content.decode()
