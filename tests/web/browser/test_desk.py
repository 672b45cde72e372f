"""The front desk's calendar in a real browser: what it shows, booking a course from its preview,
moving a session by dragging it (refused onto a busy chair, done onto a free one)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.api.conftest import World, build_world
from tests.factories import Clinic
from tests.web.browser.conftest import DESKTOP, TABLET, assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


def _open_day(page: Page, world: World, day: dt.date) -> None:
    sign_in(page, world.users["front_desk"].username)
    page.goto(f"/desk/?date={day.isoformat()}")
    page.wait_for_load_state("networkidle")


def test_the_front_desk_sees_each_chair_s_sessions_with_names_status_and_ride_home(
    page: Page, world: World, monday: dt.date
) -> None:
    _open_day(page, world, monday)
    for chair in world.clinic.chairs:
        expect(page.locator(".ec-resource, .ec-col-head").filter(has_text=chair.name).first).to_be_visible()
    session = page.locator(f'[data-event-id="session-{world.session_a.pk}"]')
    expect(session).to_contain_text("Avery Alpha")
    expect(session).to_contain_text("scheduled")
    expect(session).to_contain_text("no ride yet")
    assert_accessible(page)
    page.screenshot(path="var/screenshots/desk-day.png")
    page.set_viewport_size(TABLET)
    expect(session).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size(DESKTOP)
