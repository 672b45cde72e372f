"""The therapists' window board in a real browser: a slot booked in two clicks, the week that shows
it, and the page readable by axe-core at desktop and tablet width."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from sessions.models import IntegrationAppointment
from tests.api.conftest import World, build_world
from tests.conftest import at
from tests.factories import Clinic
from tests.web.browser.conftest import DESKTOP, TABLET, assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def world(clinic: Clinic, monday: dt.date, now: dt.datetime) -> World:
    return build_world(clinic, monday, now)


def test_a_therapist_books_a_slot_inside_a_window_from_the_board(page: Page, world: World, monday: dt.date) -> None:
    sign_in(page, world.users["therapist"].username)
    expect(page).to_have_url(re.compile(r"/board/$"))  # a therapist lands on the board
    page.goto(f"/board/?date={monday.isoformat()}")
    window = page.locator(f"#window-{world.window_b.pk}")
    expect(window).to_contain_text("Blake Beta")
    expect(window).to_contain_text("Not booked")
    expect(page.locator("#group-unbooked").locator("..")).to_contain_text("Blake Beta")
    mine = page.locator(f"#appointment-{world.appointment_a.pk}")
    expect(mine).to_contain_text("14:00 to 15:00")
    expect(mine).to_contain_text("Avery Alpha")
    assert_accessible(page)

    # One click unfolds the window's free times, a second books one.
    toggle = window.get_by_role("button", name="Free times for Blake Beta")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    slot = window.get_by_role("button", name="15:00, Tuesday 3 June: book Blake Beta")
    expect(slot).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="var/screenshots/board.png", full_page=True)
    page.set_viewport_size(TABLET)
    expect(slot).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="var/screenshots/board-tablet.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    slot.click()

    expect(page.locator("#notice")).to_have_text("Booked Blake Beta on Tue 3 Jun, 15:00.")
    # Booked, the window leaves the unbooked ones (it opens more than a day ahead) and the
    # appointment is in the week, where the focus now is.
    expect(window).to_have_count(0)
    booked = IntegrationAppointment.objects.get(window=world.window_b)
    row = page.locator(f"#appointment-{booked.pk}")
    expect(row).to_contain_text("15:00 to 16:00")
    expect(row).to_contain_text("Blake Beta")
    expect(row).to_be_focused()
    assert booked.therapist == world.clinic.therapists[0]
    assert booked.starts_at == at(monday + dt.timedelta(days=1), 15)
    assert booked.status == IntegrationAppointment.Status.BOOKED
    assert_accessible(page)
    page.screenshot(path="var/screenshots/board-booked.png", full_page=True)


def test_a_therapist_moves_then_cancels_their_appointment_with_the_keyboard_alone(
    page: Page, world: World, monday: dt.date
) -> None:
    sign_in(page, world.users["therapist"].username)
    page.goto(f"/board/?date={monday.isoformat()}")
    appointment = world.appointment_a
    row = page.locator(f"#appointment-{appointment.pk}")
    row.get_by_role("button", name="Move the appointment with Avery Alpha").focus()
    page.keyboard.press("Enter")

    # The free times of the appointment's window open with the focus on the first of them.
    first = row.get_by_role("button", name="09:45, Tuesday 3 June: move the appointment here")
    expect(first).to_be_focused()
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="10:45, Tuesday 3 June: move the appointment here")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_have_text("Moved Avery Alpha to Tue 3 Jun, 10:45.")
    expect(row).to_contain_text("10:45 to 11:45")
    expect(row).to_be_focused()
    appointment.refresh_from_db()
    assert appointment.starts_at == at(monday + dt.timedelta(days=1), 10, 45)

    # From the row: Move, then Cancel, which asks why.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(row.get_by_role("button", name="Cancel the appointment with Avery Alpha")).to_be_focused()
    page.keyboard.press("Enter")
    reason = row.get_by_label("Why is it cancelled?")
    expect(reason).to_be_focused()
    assert_accessible(page)
    page.keyboard.type("Patient asked to skip integration this week")
    page.keyboard.press("Enter")
    expect(page.locator("#notice")).to_have_text("Cancelled the appointment with Avery Alpha on Tue 3 Jun, 10:45.")
    expect(row).to_have_count(0)
    appointment.refresh_from_db()
    assert appointment.status == IntegrationAppointment.Status.CANCELLED
    assert appointment.cancel_reason == "Patient asked to skip integration this week"
