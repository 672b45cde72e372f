"""The front desk's Today page: arrivals, a sick call, and the bookings left to move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from clinic.models import TimeOff
from sessions.services.lifecycle import session_cancel, session_hold
from sessions.services.makeup import session_make_up
from sessions.services.staff_time import time_off_record
from tests.api.conftest import World, build_world
from tests.conftest import at
from tests.factories import Clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


def _front_desk(world: World) -> Client:
    client = Client()
    client.force_login(world.users["front_desk"])
    return client


def test_a_sick_call_records_time_off_until_the_end_of_the_day(world: World) -> None:
    clinician = world.clinic.clinicians[0]
    response = _front_desk(world).post(reverse("web:desk-sick-call"), {"staff": clinician.pk}, follow=True)
    assert response.status_code == 200
    off = TimeOff.objects.get(staff=clinician)
    assert off.reason == "Called in sick" and off.ends_at > off.starts_at
    assert "Recorded as off until the end of today" in response.content.decode()


def test_a_sick_call_for_no_one_says_so_and_records_nothing(world: World) -> None:
    response = _front_desk(world).post(reverse("web:desk-sick-call"), {"staff": "x"}, follow=True)
    assert "Choose who called in sick" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_the_bookings_left_to_move_name_the_patient_and_who_is_off_and_are_audited(
    world: World, monday: dt.date
) -> None:
    clinician = world.session_a.clinician
    time_off_record(staff_id=clinician.pk, starts_at=at(monday, 0), ends_at=at(monday, 23), accept_conflicts=True)
    html = _front_desk(world).get(reverse("web:desk-today")).content.decode()
    assert f'id="move-session-{world.session_a.pk}"' in html
    assert "Avery Alpha" in html and clinician.display_name in html
    event = AuditEvent.objects.filter(channel=AuditEvent.Channel.WEB, verb="desk_today").get()
    assert world.patient_a.pk in event.patient_ids


def test_searching_a_patient_offers_the_matches_and_audits_them(world: World) -> None:
    response = _front_desk(world).get(reverse("web:desk-patients"), {"q": "alp"})
    html = response.content.decode()
    assert f'value="{world.patient_a.pk}"' in html and "Beta" not in html
    assert AuditEvent.objects.filter(channel=AuditEvent.Channel.WEB, patient_ids=[world.patient_a.pk]).exists()


def test_courses_below_their_minimum_are_listed_until_a_make_up_restores_them(world: World, monday: dt.date) -> None:
    sessions = list(world.course_a.sessions.order_by("sequence"))
    minimum = world.course_a.protocol.induction_sessions_min
    for session in sessions[minimum:]:
        session_cancel(session_id=session.pk)
    page = _front_desk(world).get(reverse("web:desk-today")).content.decode()
    assert "Every course has its minimum of induction sessions." in page
    assert f'id="short-course-{world.course_a.pk}"' not in page

    session_hold(session_id=sessions[0].pk, reason="BP 170/104")

    page = _front_desk(world).get(reverse("web:desk-today")).content.decode()
    assert f'id="short-course-{world.course_a.pk}"' in page
    assert f"{minimum - 1} of at least {minimum}" in page
    assert f"{world.patient_a.first_name} {world.patient_a.last_name}" in page
    event = AuditEvent.objects.filter(channel=AuditEvent.Channel.WEB, verb="desk_today").last()
    assert event is not None and world.patient_a.pk in event.patient_ids

    last = sessions[minimum - 1]
    session_make_up(session_id=sessions[0].pk, starts_at=at(last.local_date + dt.timedelta(days=3), 10))

    page = _front_desk(world).get(reverse("web:desk-today")).content.decode()
    assert f'id="short-course-{world.course_a.pk}"' not in page
