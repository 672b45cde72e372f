"""The patient's page: their own visits and follow-ups on their own clock, the ride home, asking
for a change, reminder settings and a calendar subscription; never another patient's rows, and
never a word that names a drug or a diagnosis."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from calendars.events import INTEGRATION_APPOINTMENT, SESSION, TITLES
from calendars.models import CalendarFeed
from ketaminecare.access.privacy import forbidden_words
from patients.models import Patient
from sessions.models import RescheduleRequest, TreatmentSession
from sessions.services.lifecycle import session_cancel
from sessions.services.requests import MSG_REQUEST_OPEN
from tests.api.conftest import World, build_world
from tests.factories import Clinic
from web.views.me import MSG_VISIT_GONE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PREFERENCES = {
    "remind_by_email": "on",
    "quiet_hours_start": "22:30",
    "quiet_hours_end": "07:00",
    "time_zone": "America/Chicago",
}


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


def _signed_in(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


@pytest.fixture
def avery(world: World) -> Client:
    return _signed_in(world, "patient_a")


def _second_visit(world: World) -> TreatmentSession:
    """Patient A's second visit, with no request to move it yet (the first has one)."""
    return world.course_a.sessions.get(sequence=2)


def _visit_url(action: str, session: TreatmentSession) -> str:
    return reverse(f"web:me-{action}", kwargs={"session_id": session.pk})


def _private(html: str) -> None:
    """No word of the privacy vocabulary, nor the product's name (it names the drug)."""
    assert forbidden_words(html) == []
    assert "ketamine" not in html.lower()


def test_the_patient_sees_their_own_visits_and_follow_ups_on_their_own_clock(avery: Client, world: World) -> None:
    Patient.objects.filter(pk=world.patient_a.pk).update(time_zone="Europe/London")

    html = avery.get(reverse("web:me")).content.decode()

    own = world.course_a.sessions.all()
    assert all(f'id="visit-{session.pk}"' in html for session in own)
    assert f'id="visit-{world.session_b.pk}"' not in html and "Blake" not in html
    assert f'id="appointment-{world.appointment_a.pk}"' in html
    assert TITLES[SESSION] in html and TITLES[INTEGRATION_APPOINTMENT] in html
    london = timezone.localtime(world.session_a.starts_at, zoneinfo.ZoneInfo("Europe/London"))
    assert f"{london:%H:%M}\u2013" in html and "(Europe/London)" in html


def test_no_part_of_the_page_names_a_drug_or_a_diagnosis(avery: Client, world: World) -> None:
    answers = [
        avery.get(reverse("web:me")),
        avery.post(_visit_url("ride-home", world.session_a), **HTMX),
        avery.post(_visit_url("change", _second_visit(world)), {"message": "Mornings suit me better"}, **HTMX),
        avery.post(reverse("web:me-preferences"), PREFERENCES, **HTMX),
        avery.post(reverse("web:me-calendar"), **HTMX),
        avery.get(reverse("web:me")),
    ]
    for answer in answers:
        assert answer.status_code == 200
        _private(answer.content.decode())


def test_typed_names_that_say_what_the_treatment_is_are_left_out(avery: Client, world: World, settings: Any) -> None:
    settings.CLINIC_NAME = "Riverside Ketamine Center"
    therapist = world.appointment_a.therapist
    therapist.display_name = "Dana Reyes, Psychotherapist"
    therapist.save(update_fields=["display_name"])

    html = avery.get(reverse("web:me")).content.decode()

    _private(html)
    assert "<title>My treatment · Your clinic</title>" in html
    assert f'id="appointment-{world.appointment_a.pk}"' in html and "Dana Reyes" not in html


def test_confirming_the_ride_home_answers_the_visit(avery: Client, world: World) -> None:
    response = avery.post(_visit_url("ride-home", world.session_a), **HTMX)

    assert response.status_code == 200
    assert TreatmentSession.objects.get(pk=world.session_a.pk).ride_home_confirmed
    html = response.content.decode()
    assert html.startswith(f'<li class="visit" id="visit-{world.session_a.pk}">')
    assert "Ride home confirmed" in html and "is confirmed. Thank you." in html


def test_asking_for_a_change_leaves_a_request_for_the_front_desk(avery: Client, world: World) -> None:
    visit = _second_visit(world)

    response = avery.post(_visit_url("change", visit), {"message": " Mornings suit me better "}, **HTMX)

    assert response.status_code == 200
    request = RescheduleRequest.objects.get(session=visit)
    assert request.status == RescheduleRequest.Status.OPEN and request.message == "Mornings suit me better"
    assert request.patient_id == world.patient_a.pk
    assert "Change requested" in response.content.decode()


def test_asking_twice_is_refused_with_the_rule(avery: Client, world: World) -> None:
    response = avery.post(_visit_url("change", world.session_a), {"message": "Again"}, **HTMX)

    assert response.status_code == 409
    assert MSG_REQUEST_OPEN in response.content.decode()
    assert RescheduleRequest.objects.filter(session=world.session_a).count() == 1


@pytest.mark.parametrize("action", ["ride-home", "change"])
def test_a_patient_cannot_touch_another_patient_s_visit(world: World, action: str) -> None:
    blake = _signed_in(world, "patient_b")
    visit = _second_visit(world)

    assert blake.get(_visit_url(action, visit)).status_code == 404
    assert blake.post(_visit_url(action, visit), {"message": "Not mine"}, **HTMX).status_code == 404

    assert not TreatmentSession.objects.get(pk=visit.pk).ride_home_confirmed
    assert not RescheduleRequest.objects.filter(session=visit).exists()


def test_a_visit_cancelled_since_the_page_was_drawn_says_so_in_its_place(avery: Client, world: World) -> None:
    visit = _second_visit(world)
    session_cancel(session_id=visit.pk, reason="The clinic is closed that day.")

    response = avery.post(_visit_url("ride-home", visit), **HTMX)

    assert response.status_code == 404
    html = response.content.decode()
    assert html.startswith(f'<li class="visit" id="visit-{visit.pk}">') and MSG_VISIT_GONE in html


def test_the_reminder_settings_are_saved_and_the_times_follow_the_new_zone(avery: Client, world: World) -> None:
    response = avery.post(reverse("web:me-preferences"), PREFERENCES, **HTMX)

    assert response.status_code == 200
    patient = Patient.objects.get(pk=world.patient_a.pk)
    assert (patient.remind_by_sms, patient.remind_by_email) == (False, True)
    assert (patient.quiet_hours_start, patient.quiet_hours_end) == (dt.time(22, 30), dt.time(7))
    assert patient.time_zone == "America/Chicago"
    html = response.content.decode()
    assert "Your reminder settings are saved." in html
    # The visits come along out of band, now on the patient's new clock.
    assert re.search(r'<section class="card" id="visits-section"[^>]*hx-swap-oob="true"', html)
    assert "(America/Chicago)" in html


def test_a_time_zone_the_service_does_not_know_is_refused(avery: Client, world: World) -> None:
    response = avery.post(reverse("web:me-preferences"), {**PREFERENCES, "time_zone": "Mars/Olympus"}, **HTMX)

    assert response.status_code == 400
    assert 'class="error refusal"' in response.content.decode()
    assert 'value="Mars/Olympus"' in response.content.decode()
    assert Patient.objects.get(pk=world.patient_a.pk).time_zone == world.patient_a.time_zone


def test_a_time_that_is_not_a_time_is_refused(avery: Client, world: World) -> None:
    response = avery.post(reverse("web:me-preferences"), {**PREFERENCES, "quiet_hours_start": "late"}, **HTMX)

    assert response.status_code == 400
    assert "Quiet from: Enter a valid time." in response.content.decode()


def test_starting_text_messages_again_clears_the_stop(avery: Client, world: World) -> None:
    Patient.objects.filter(pk=world.patient_a.pk).update(sms_opted_out_at=timezone.now())
    assert "Start text messages again" in avery.get(reverse("web:me")).content.decode()

    avery.post(reverse("web:me-preferences"), {**PREFERENCES, "remind_by_sms": "on", "resume_sms": "on"}, **HTMX)

    patient = Patient.objects.get(pk=world.patient_a.pk)
    assert patient.sms_opted_out_at is None and patient.remind_by_sms


def _feed_url(html: str) -> str:
    match = re.search(r'<textarea id="feed-url"[^>]*>([^<]+)</textarea>', html)
    assert match is not None, html
    return match.group(1)


def test_the_calendar_address_is_shown_once_and_a_new_one_retires_it(avery: Client, world: World) -> None:
    first = avery.post(reverse("web:me-calendar"), **HTMX)

    assert first.status_code == 200
    url = _feed_url(first.content.decode())
    assert "it will not be shown again" in first.content.decode()
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert CalendarFeed.objects.filter(patient=world.patient_a, revoked_at__isnull=True).count() == 1
    assert Client().get(url).status_code == 200

    page = avery.get(reverse("web:me")).content.decode()
    assert token not in page and "Make a new calendar address" in page

    second = _feed_url(avery.post(reverse("web:me-calendar"), **HTMX).content.decode())
    assert second != url
    assert Client().get(url).status_code == 404
    assert Client().get(second).status_code == 200


def test_without_scripts_an_action_comes_back_to_the_page_with_its_words(avery: Client, world: World) -> None:
    response = avery.post(_visit_url("ride-home", world.session_a), follow=True)

    assert response.redirect_chain == [(reverse("web:me"), 302)]
    assert "is confirmed. Thank you." in response.content.decode()


@pytest.mark.parametrize("role", ["clinician", "front_desk", "therapist"])
def test_staff_cannot_act_on_the_patient_s_page(world: World, role: str) -> None:
    response = _signed_in(world, role).post(_visit_url("ride-home", world.session_a), **HTMX)

    assert response.status_code == 403
    assert not TreatmentSession.objects.get(pk=world.session_a.pk).ride_home_confirmed


def test_the_page_records_in_the_audit_trail_what_it_showed_and_what_was_changed(avery: Client, world: World) -> None:
    avery.get(reverse("web:me"))
    shown = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="me")
    assert shown.actor == world.users["patient_a"] and shown.patient_ids == [world.patient_a.pk]

    avery.post(_visit_url("ride-home", world.session_a), **HTMX)
    avery.post(reverse("web:me-preferences"), PREFERENCES, **HTMX)

    confirmed = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="me_ride_home")
    assert confirmed.object_id == str(world.session_a.pk) and confirmed.patient_ids == [world.patient_a.pk]
    updated = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="me_preferences")
    assert updated.action == AuditEvent.Action.UPDATE and updated.patient_ids == [world.patient_a.pk]
