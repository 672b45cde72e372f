"""The clinicians' chairs today in a real browser: checking a patient in, holding a session with a
reason, and a refusal that shows the rule instead of an error page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sessions.models import TreatmentSession
from sessions.services.lifecycle import MSG_TOO_EARLY
from tests.api.conftest import World, build_world
from tests.factories import Clinic
from tests.web.browser.conftest import DESKTOP, TABLET, assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


@pytest.fixture
def on_the_day(world: World, monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """The live server's clock reads five minutes into patient A's first session: a check-in is
    for the session's own day. The live server runs in this process, so it reads the same clock."""
    instant = world.session_a.starts_at + dt.timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


def test_a_clinician_checks_a_patient_in_and_holds_a_session_with_a_reason(
    page: Page, world: World, on_the_day: dt.datetime
) -> None:
    sign_in(page, world.users["clinician"].username)
    expect(page.get_by_role("heading", name="Chairs today")).to_be_visible()
    avery = page.locator(f"#session-{world.session_a.pk}")
    blake = page.locator(f"#session-{world.session_b.pk}")
    expect(avery).to_have_class("slot now")
    assert_accessible(page)
    page.screenshot(path="var/screenshots/chairs-due.png", full_page=True)

    avery.get_by_label("Ride home confirmed").check()
    avery.get_by_role("button", name="Check in", exact=True).click()

    expect(page.locator("#notice")).to_contain_text("Avery Alpha is checked in (ride home confirmed).")
    expect(avery).to_contain_text("Checked in")
    expect(avery.get_by_label("Dose (mg)")).to_be_visible()
    expect(page.locator(f"#chair-{world.session_a.chair_id}")).to_be_focused()

    blake.get_by_text("Hold this session").click()
    blake.get_by_label("Reason for the hold (required)").fill("Blood pressure 170/100")
    blake.get_by_role("button", name="Hold", exact=True).click()

    expect(page.locator("#notice")).to_contain_text("Blake Beta's session is held: Blood pressure 170/100")
    expect(blake).to_contain_text("Held: Blood pressure 170/100")
    sessions = TreatmentSession.objects.in_bulk([world.session_a.pk, world.session_b.pk])
    assert sessions[world.session_a.pk].status == TreatmentSession.Status.CHECKED_IN
    assert sessions[world.session_a.pk].ride_home_confirmed
    assert sessions[world.session_b.pk].status == TreatmentSession.Status.HELD
    assert sessions[world.session_b.pk].hold_reason == "Blood pressure 170/100"
    assert_accessible(page)
    page.screenshot(path="var/screenshots/chairs.png", full_page=True)

    page.set_viewport_size(TABLET)
    expect(avery).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="var/screenshots/chairs-tablet.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_refused_check_in_shows_the_rule_in_place(page: Page, world: World, on_the_day: dt.datetime) -> None:
    later = world.course_a.sessions.get(sequence=2)
    sign_in(page, world.users["clinician"].username)
    page.goto(f"/chairs/?date={later.local_date.isoformat()}")
    visit = page.locator(f"#session-{later.pk}")

    visit.get_by_role("button", name="Check in", exact=True).click()

    expect(page.locator("#notice")).to_contain_text(MSG_TOO_EARLY)
    expect(visit.locator(".refusal")).to_have_text(MSG_TOO_EARLY)
    # The button is gone with the old card: the keyboard goes on from the rule, not the page's top.
    expect(visit.locator(".refusal")).to_be_focused()
    assert TreatmentSession.objects.get(pk=later.pk).status == TreatmentSession.Status.SCHEDULED
    assert_accessible(page)
