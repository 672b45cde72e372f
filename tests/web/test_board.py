"""The therapists' window board through Django's test client: the groups, the free times, booking,
moving and cancelling through the integration services, and what a therapist never sees or does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from ketaminecare.roles import Role
from sessions.models import IntegrationAppointment, IntegrationWindow
from sessions.scheduling import Preferences
from sessions.selectors import clinic_zone
from sessions.services.booking import course_plan_and_book
from sessions.services.integration import MSG_OUTSIDE_WINDOW, MSG_THERAPIST_BUSY, MSG_WINDOW_BOOKED
from tests import factories
from tests.api.conftest import World, build_world
from tests.conftest import at
from tests.factories import Clinic
from web.views.board import MSG_NO_APPOINTMENT, MSG_PICK_TIME, MSG_REASON_NEEDED

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = IntegrationAppointment.Status


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


@pytest.fixture
def therapist(world: World) -> Client:
    client = Client()
    client.force_login(world.users["therapist"])
    return client


def _local_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(clinic_zone()).date()


def _groups(response: Any) -> dict[str, list[int]]:
    return {group.key: sorted(row.window.pk for row in group.rows) for group in response.context["groups"]}


def _book(client: Client, window: IntegrationWindow, starts_at: dt.datetime, **extra: Any) -> Any:
    url = reverse("web:board-window", args=[window.pk])
    return client.post(url, {"starts_at": starts_at.isoformat(), "date": "2031-06-02", **extra}, **HTMX)


def test_the_board_groups_windows_by_when_they_open_and_close(therapist: Client, world: World, monday: dt.date) -> None:
    a, b = world.window_a, world.window_b
    # Monday's start: both windows open the next day, too late to be "soon"; only the unbooked one
    # is listed (with the courses' later unbooked windows of the coming week), so that it is not
    # forgotten.
    response = therapist.get(reverse("web:board"), {"date": monday.isoformat()})
    assert response.status_code == 200
    groups = _groups(response)
    assert groups["closing"] == groups["open"] == groups["opening"] == []
    assert b.pk in groups["unbooked"] and a.pk not in groups["unbooked"]
    later = IntegrationWindow.objects.filter(pk__in=groups["unbooked"])
    assert all(w.opens_at <= at(monday + dt.timedelta(days=7), 0) and not w.appointments.exists() for w in later)
    assert b"opens in 1\xc2\xa0day, 9\xc2\xa0hours" in response.content

    # The start of the day they open: both open within 24 hours, booked or not.
    response = therapist.get(reverse("web:board"), {"date": _local_date(b.opens_at).isoformat()})
    assert _groups(response)["opening"] == sorted([a.pk, b.pk])

    # The start of the day they close: window_b, moved to close at 04:00, closes within 6 hours.
    closing_day = _local_date(a.closes_at)
    IntegrationWindow.objects.filter(pk=b.pk).update(closes_at=at(closing_day, 4))
    response = therapist.get(reverse("web:board"), {"date": closing_day.isoformat()})
    groups = _groups(response)
    assert groups["closing"] == [b.pk] and groups["open"] == [a.pk]
    assert b"4\xc2\xa0hours left" in response.content
    assert b"9\xc2\xa0hours, 40\xc2\xa0minutes left" in response.content


def test_the_board_shows_a_window_s_patient_by_name_and_nothing_of_the_session(
    therapist: Client, world: World, monday: dt.date
) -> None:
    world.session_b.clinical_notes = "Dissociation scale noted"
    world.session_b.dose_mg = 37.5
    world.session_b.save()
    response = therapist.get(reverse("web:board"), {"date": monday.isoformat()})
    content = response.content.decode()
    assert "Blake Beta" in content
    assert "Dissociation" not in content and "37.5" not in content
    assert world.session_b.chair.name not in content


def test_unfolding_a_window_offers_the_therapist_s_own_free_times(
    therapist: Client, world: World, monday: dt.date
) -> None:
    url = reverse("web:board-window", args=[world.window_b.pk])
    response = therapist.get(url, {"date": monday.isoformat(), "slots": "1"}, **HTMX)
    assert response.status_code == 200
    row = response.context["row"]
    starts = [start for stretch in row.stretches for start in stretch.starts]
    assert starts, "an unbooked window with a working therapist offers free times"
    tuesday = monday + dt.timedelta(days=1)
    busy = at(tuesday, 14)  # appointment_a, the same therapist's, 14:00 to 15:00
    assert busy not in starts
    assert all(world.window_b.opens_at <= start < world.window_b.closes_at for start in starts)
    assert f'value="{starts[0].isoformat()}"'.encode() in response.content
    assert b'aria-expanded="true"' in response.content


def test_booking_a_free_time_books_the_signed_in_therapist_whatever_the_form_says(
    therapist: Client, world: World, monday: dt.date
) -> None:
    other = factories.staff(Role.THERAPIST)
    starts_at = at(monday + dt.timedelta(days=1), 10)
    response = _book(therapist, world.window_b, starts_at, therapist=str(other.pk))
    assert response.status_code == 200
    appointment = IntegrationAppointment.objects.get(window=world.window_b)
    assert appointment.therapist == world.clinic.therapists[0]
    assert appointment.starts_at == starts_at and appointment.status == Status.BOOKED
    assert appointment.created_by == world.users["therapist"]
    assert "Booked Blake Beta on Tue 3 Jun, 10:00." in response.content.decode()
    week = [row.appointment.pk for day in response.context["week"] for row in day["rows"]]
    assert appointment.pk in week and world.appointment_a.pk in week


@pytest.mark.parametrize(
    ("window", "when", "message"),
    [
        ("window_b", lambda monday: at(monday, 9), MSG_OUTSIDE_WINDOW),
        ("window_b", lambda monday: at(monday + dt.timedelta(days=1), 14, 30), MSG_THERAPIST_BUSY),
        ("window_a", lambda monday: at(monday + dt.timedelta(days=1), 11), MSG_WINDOW_BOOKED),
    ],
    ids=["outside-the-window", "therapist-busy", "window-booked"],
)
def test_a_refused_booking_answers_the_rule_and_writes_nothing(
    therapist: Client, world: World, monday: dt.date, window: str, when: Any, message: str
) -> None:
    before = IntegrationAppointment.objects.count()
    response = _book(therapist, getattr(world, window), when(monday))
    assert response.status_code == 409
    assert f'<div hx-swap-oob="innerHTML:#notice"><p class="error">{message}</p>' in response.content.decode()
    if window == "window_b":  # listed on Monday's board: its row unfolds again, saying the rule
        assert response.content.decode().count(message) == 2
    assert IntegrationAppointment.objects.count() == before


def test_a_time_that_is_not_one_answers_400(therapist: Client, world: World) -> None:
    response = _book(therapist, world.window_b, dt.datetime(2031, 6, 3, 10))  # no zone: not an instant
    assert response.status_code == 400
    assert MSG_PICK_TIME in response.content.decode()
    assert not IntegrationAppointment.objects.filter(window=world.window_b).exists()


def test_a_plain_form_post_books_and_comes_back_to_the_board(therapist: Client, world: World, monday: dt.date) -> None:
    url = reverse("web:board-window", args=[world.window_b.pk])
    starts_at = at(monday + dt.timedelta(days=1), 15)
    response = therapist.post(url, {"starts_at": starts_at.isoformat(), "date": monday.isoformat()}, follow=True)
    assert response.redirect_chain == [(f"{reverse('web:board')}?date={monday.isoformat()}", 302)]
    assert "Booked Blake Beta on Tue 3 Jun, 15:00." in response.content.decode()
    assert IntegrationAppointment.objects.filter(window=world.window_b, starts_at=starts_at).exists()


def test_moving_an_appointment_to_another_free_time_in_its_window(
    therapist: Client, world: World, monday: dt.date
) -> None:
    appointment = world.appointment_a
    url = reverse("web:board-move", args=[appointment.pk])
    offered = therapist.get(url, {"date": monday.isoformat()}, **HTMX).context["row"].moving
    target = offered[0].starts[0]
    response = therapist.post(url, {"starts_at": target.isoformat(), "date": monday.isoformat()}, **HTMX)
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.starts_at == target and appointment.revision == 1
    assert "Moved Avery Alpha to" in response.content.decode()


def test_a_refused_move_keeps_the_appointment_and_its_row_offers_times_again(
    therapist: Client, world: World, monday: dt.date
) -> None:
    appointment = world.appointment_a
    url = reverse("web:board-move", args=[appointment.pk])
    response = therapist.post(url, {"starts_at": at(monday, 9).isoformat(), "date": monday.isoformat()}, **HTMX)
    assert response.status_code == 409
    assert MSG_OUTSIDE_WINDOW in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.starts_at == at(monday + dt.timedelta(days=1), 14) and appointment.revision == 0
    rows = [row for day in response.context["week"] for row in day["rows"] if row.appointment.pk == appointment.pk]
    assert rows[0].moving, "the row stays unfolded with the free times to pick another"


def test_cancelling_asks_for_a_reason_then_cancels_with_it(therapist: Client, world: World, monday: dt.date) -> None:
    appointment = world.appointment_a
    url = reverse("web:board-cancel", args=[appointment.pk])
    response = therapist.post(url, {"reason": "  ", "date": monday.isoformat()}, **HTMX)
    assert response.status_code == 400
    assert MSG_REASON_NEEDED in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED

    response = therapist.post(url, {"reason": "Therapist ill", "date": monday.isoformat()}, **HTMX)
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED and appointment.cancel_reason == "Therapist ill"
    week = [row.appointment.pk for day in response.context["week"] for row in day["rows"]]
    assert appointment.pk not in week


def test_another_therapist_can_neither_see_nor_change_someone_else_s_appointment(world: World, monday: dt.date) -> None:
    other = factories.staff(Role.THERAPIST, starts=dt.time(9), ends=dt.time(17))
    client = Client()
    client.force_login(other.user)
    appointment = world.appointment_a

    board = client.get(reverse("web:board"), {"date": monday.isoformat()})
    assert all(not day["rows"] for day in board.context["week"])
    assert reverse("web:board-move", args=[appointment.pk]) not in board.content.decode()
    for name in ("web:board-move", "web:board-cancel", "web:board-appointment"):
        assert client.get(reverse(name, args=[appointment.pk]), **HTMX).status_code == 404
    response = client.post(
        reverse("web:board-cancel", args=[appointment.pk]), {"reason": "Not mine", "date": "2031-06-02"}, **HTMX
    )
    assert response.status_code == 404
    assert MSG_NO_APPOINTMENT in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_a_booked_window_shows_booked_without_another_therapist_s_booking(world: World, monday: dt.date) -> None:
    other = factories.staff(Role.THERAPIST, starts=dt.time(9), ends=dt.time(17))
    client = Client()
    client.force_login(other.user)
    response = client.get(reverse("web:board"), {"date": _local_date(world.window_a.opens_at).isoformat()})
    row = next(r for g in response.context["groups"] for r in g.rows if r.window.pk == world.window_a.pk)
    assert row.mine is None
    assert "Booked with you" not in response.content.decode()
    assert world.clinic.therapists[0].display_name not in response.content.decode()


def test_the_board_s_queries_do_not_grow_with_its_windows_and_appointments(
    therapist: Client, world: World, monday: dt.date, now: dt.datetime
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = therapist.get(reverse("web:board"), {"date": monday.isoformat()})
        assert response.status_code == 200
        return len(captured)

    before = queries()
    patient = factories.screened_patient(clinician=world.clinic.clinicians[1], first_name="Casey", last_name="Gamma")
    course = course_plan_and_book(
        patient=patient, protocol=world.clinic.protocol, first_date=monday, preferences=Preferences(), now=now
    )
    window = IntegrationWindow.objects.filter(session__course=course).order_by("opens_at").first()
    assert window is not None
    _book(therapist, window, at(monday + dt.timedelta(days=1), 16))
    assert IntegrationAppointment.objects.filter(window=window).exists()
    assert queries() == before


def test_the_board_records_in_the_audit_trail_whose_names_it_showed_and_what_it_booked(
    therapist: Client, world: World, monday: dt.date
) -> None:
    therapist.get(reverse("web:board"), {"date": monday.isoformat()})
    shown = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="board")
    assert shown.actor == world.users["therapist"] and shown.action == AuditEvent.Action.LIST
    assert set(shown.patient_ids) == {world.patient_a.pk, world.patient_b.pk}

    response = _book(therapist, world.window_b, at(monday + dt.timedelta(days=1), 10))
    assert response.status_code == 200
    booked = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="board_book")
    appointment = IntegrationAppointment.objects.get(window=world.window_b)
    assert booked.action == AuditEvent.Action.CREATE and booked.patient_ids == [world.patient_b.pk]
    assert booked.object_id == str(appointment.pk)
