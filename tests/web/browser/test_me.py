"""The patient's page in a real browser: only their own treatment, confirming a ride home, and
nothing on screen (nor in the tab's title) that names a drug or a diagnosis."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from ketaminecare.access.privacy import forbidden_words
from sessions.models import TreatmentSession
from tests.api.conftest import World, build_world
from tests.factories import Clinic
from tests.web.browser.conftest import DESKTOP, TABLET, assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


def test_a_patient_sees_only_their_own_treatment(page: Page, world: World) -> None:
    sign_in(page, world.users["patient_a"].username)

    expect(page.get_by_role("heading", name="My treatment")).to_be_visible()
    for session in world.course_a.sessions.all():
        expect(page.locator(f"#visit-{session.pk}")).to_be_visible()
    for session in world.course_b.sessions.all():
        expect(page.locator(f"#visit-{session.pk}")).to_have_count(0)
    expect(page.get_by_text("Blake")).to_have_count(0)
    expect(page.locator(f"#appointment-{world.appointment_a.pk}")).to_contain_text("Follow-up appointment")
    assert forbidden_words(page.title() + page.inner_text("body")) == []
    assert "ketamine" not in (page.title() + page.inner_text("body")).lower()
    assert_accessible(page)

    visit = page.locator(f"#visit-{world.session_a.pk}")
    visit.get_by_role("button", name="Confirm my ride home").click()

    expect(page.locator("#notice")).to_contain_text("is confirmed. Thank you.")
    expect(visit.get_by_text("Ride home confirmed")).to_be_visible()
    expect(visit.get_by_role("button", name="Confirm my ride home")).to_have_count(0)
    assert TreatmentSession.objects.get(pk=world.session_a.pk).ride_home_confirmed
    assert_accessible(page)
    page.screenshot(path="var/screenshots/me.png", full_page=True)

    page.set_viewport_size(TABLET)
    expect(visit).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="var/screenshots/me-tablet.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_a_patient_asks_for_a_change_and_subscribes_a_calendar(page: Page, world: World) -> None:
    sign_in(page, world.users["patient_a"].username)
    second = world.course_a.sessions.get(sequence=2)
    visit = page.locator(f"#visit-{second.pk}")

    visit.get_by_text("Ask for a change").click()
    visit.get_by_label("Message to the front desk (optional)").fill("Mornings suit me better")
    visit.get_by_role("button", name="Send my request").click()

    expect(visit.get_by_text("Change requested")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("The front desk will contact you.")

    page.get_by_role("button", name="Make my calendar address").click()

    address = page.get_by_label("Your calendar address")
    expect(address).to_have_value(re.compile(r"^http://.+/feeds/[A-Za-z0-9_-]{16,}\.ics$"))
    expect(page.locator("#feed-url-note")).to_contain_text("it will not be shown again")
    assert_accessible(page)
    page.screenshot(path="var/screenshots/me-calendar.png", full_page=True)
