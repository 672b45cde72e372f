"""The clinicians' chairs today: who is in which chair, and checking in, completing and holding
from the page (htmx), each through the session's service; a refusal answers the rule in words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from sessions.models import TreatmentSession
from sessions.services.lifecycle import MSG_TOO_EARLY, MSG_TRANSITION, session_check_in
from tests.api.conftest import World, build_world
from tests.factories import ChairFactory, Clinic

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = TreatmentSession.Status


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


@pytest.fixture
def clinician(world: World) -> Client:
    client = Client()
    client.force_login(world.users["clinician"])
    return client


@pytest.fixture
def on_the_day(world: World, clinician: Client, monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """The clock reads five minutes into patient A's first session (check-in is for its own day).
    The clinician signs in again by that clock, or their sign-in would have expired years ago."""
    instant = world.session_a.starts_at + dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    clinician.force_login(world.users["clinician"])
    return instant


def _act(client: Client, action: str, session: TreatmentSession, **data: str) -> object:
    return client.post(reverse(f"web:chairs-{action}", kwargs={"session_id": session.pk}), data, **HTMX)


def _day_url(day: dt.date) -> str:
    return f"{reverse('web:chairs')}?date={day.isoformat()}"


def test_each_active_chair_shows_the_day_s_patients(clinician: Client, world: World, monday: dt.date) -> None:
    retired = ChairFactory(name="Retired chair", is_active=False)

    html = clinician.get(_day_url(monday)).content.decode()

    for chair in world.clinic.chairs:
        assert f'id="chair-{chair.pk}"' in html
    assert f'id="chair-{retired.pk}"' not in html
    assert f'id="session-{world.session_a.pk}"' in html and "Avery Alpha" in html
    assert f'id="session-{world.session_b.pk}"' in html and "Blake Beta" in html
    assert "No ride home yet" in html


def test_another_day_shows_that_day_s_sessions_only(clinician: Client, world: World, monday: dt.date) -> None:
    html = clinician.get(_day_url(monday - dt.timedelta(days=1))).content.decode()
    assert f'id="session-{world.session_a.pk}"' not in html
    assert "No one is in this chair today." in html


def test_the_session_due_now_is_highlighted(
    clinician: Client, world: World, monday: dt.date, on_the_day: dt.datetime
) -> None:
    html = clinician.get(reverse("web:chairs")).content.decode()
    assert f'class="slot now" id="session-{world.session_a.pk}"' in html
    assert "Due now" in html


def test_checking_in_with_the_ride_home_answers_the_chair_s_card(
    clinician: Client, world: World, on_the_day: dt.datetime
) -> None:
    response = _act(clinician, "check-in", world.session_a, ride_home_confirmed="on")

    assert response.status_code == 200
    session = TreatmentSession.objects.get(pk=world.session_a.pk)
    assert session.status == Status.CHECKED_IN and session.ride_home_confirmed
    html = response.content.decode()
    assert html.startswith(f'<section class="card chair" id="chair-{session.chair_id}"')
    assert "In the chair now" in html
    assert "Avery Alpha is checked in (ride home confirmed)." in html
    assert 'hx-swap-oob="innerHTML:#notice"' in html


def test_checking_in_on_another_day_is_refused_with_the_rule(clinician: Client, world: World) -> None:
    response = _act(clinician, "check-in", world.session_a)

    assert response.status_code == 409
    assert MSG_TOO_EARLY in response.content.decode()
    assert TreatmentSession.objects.get(pk=world.session_a.pk).status == Status.SCHEDULED


def test_completing_records_the_dose_and_the_note(clinician: Client, world: World, on_the_day: dt.datetime) -> None:
    session_check_in(session_id=world.session_a.pk, now=on_the_day)

    response = _act(clinician, "complete", world.session_a, dose_mg="35.5", clinical_notes="Tolerated well.")

    assert response.status_code == 200
    session = TreatmentSession.objects.get(pk=world.session_a.pk)
    assert session.status == Status.COMPLETED
    assert session.dose_mg == Decimal("35.50") and session.clinical_notes == "Tolerated well."
    html = response.content.decode()
    assert "35.50 mg" in html and "Tolerated well." in html
    assert "Avery Alpha&#x27;s session is completed." in html


def test_a_dose_that_is_not_a_positive_number_is_refused(
    clinician: Client, world: World, on_the_day: dt.datetime
) -> None:
    session_check_in(session_id=world.session_a.pk, now=on_the_day)

    response = _act(clinician, "complete", world.session_a, dose_mg="-3")

    assert response.status_code == 400
    assert "Dose (mg)" in response.content.decode()
    assert TreatmentSession.objects.get(pk=world.session_a.pk).status == Status.CHECKED_IN


def test_completing_a_session_nobody_checked_in_is_refused(clinician: Client, world: World) -> None:
    response = _act(clinician, "complete", world.session_a, dose_mg="20")

    assert response.status_code == 409
    expected = MSG_TRANSITION.format(status="scheduled", verb="completed")
    assert expected in response.content.decode()


def test_a_hold_needs_a_reason(clinician: Client, world: World) -> None:
    response = _act(clinician, "hold", world.session_a, reason="  ")

    assert response.status_code == 400
    assert "A hold needs a reason." in response.content.decode()
    assert TreatmentSession.objects.get(pk=world.session_a.pk).status == Status.SCHEDULED


def test_holding_with_a_reason_shows_it_on_the_card(clinician: Client, world: World) -> None:
    response = _act(clinician, "hold", world.session_a, reason="Blood pressure 170/100")

    assert response.status_code == 200
    session = TreatmentSession.objects.get(pk=world.session_a.pk)
    assert session.status == Status.HELD and session.hold_reason == "Blood pressure 170/100"
    assert "Held: Blood pressure 170/100" in response.content.decode()


def test_without_scripts_an_action_comes_back_to_the_day_with_its_words(
    clinician: Client, world: World, monday: dt.date
) -> None:
    url = reverse("web:chairs-hold", kwargs={"session_id": world.session_a.pk})

    response = clinician.post(url, {"reason": "Unwell today"}, follow=True)

    assert response.redirect_chain == [(_day_url(monday), 302)]
    assert "Avery Alpha&#x27;s session is held: Unwell today" in response.content.decode()


def test_an_unknown_session_answers_404(clinician: Client) -> None:
    response = clinician.post(reverse("web:chairs-hold", kwargs={"session_id": 999_999}), {"reason": "x"}, **HTMX)
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["front_desk", "therapist", "patient_a"])
def test_only_clinicians_act_from_the_chairs(world: World, role: str) -> None:
    client = Client()
    client.force_login(world.users[role])

    response = _act(client, "hold", world.session_a, reason="Not theirs to decide")

    assert response.status_code == 403
    assert TreatmentSession.objects.get(pk=world.session_a.pk).status == Status.SCHEDULED


def test_the_chairs_record_in_the_audit_trail_whose_names_they_showed_and_what_was_done(
    clinician: Client, world: World, monday: dt.date
) -> None:
    clinician.get(_day_url(monday))
    shown = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="chairs")
    assert shown.actor == world.users["clinician"] and shown.action == AuditEvent.Action.LIST
    assert set(shown.patient_ids) == {world.patient_a.pk, world.patient_b.pk}

    assert _act(clinician, "hold", world.session_a, reason="Unwell today").status_code == 200

    held = AuditEvent.objects.get(channel=AuditEvent.Channel.WEB, verb="chairs_hold")
    assert held.action == AuditEvent.Action.ACTION and held.patient_ids == [world.patient_a.pk]
    assert held.object_id == str(world.session_a.pk)
