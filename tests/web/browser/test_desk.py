"""The front desk's calendar in a real browser: what it shows, booking a course from its preview,
moving a session by dragging it (refused onto a busy chair, done onto a free one)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from clinic.models import ClosureDay
from courses.models import Course
from sessions.models import IntegrationWindow, TreatmentSession
from sessions.services.lifecycle import session_cancel, session_hold
from sessions.services.staff_time import time_off_record
from tests import factories
from tests.api.conftest import World, build_world
from tests.conftest import at
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


def test_the_calendar_turns_to_clinicians_with_their_time_off_and_shows_windows_when_asked(
    page: Page, world: World, monday: dt.date
) -> None:
    clinician = world.session_a.clinician
    time_off_record(staff_id=clinician.pk, starts_at=at(monday, 13), ends_at=at(monday, 17), reason="Training")
    _open_day(page, world, monday)
    expect(page.locator(".ec-event.window")).to_have_count(0)
    page.get_by_label("By clinician").check()
    expect(page.locator(".ec-col-head").filter(has_text=clinician.display_name)).to_be_visible()
    expect(page.locator(".ec-bg-event.time-off")).to_have_count(1)
    expect(page.locator(f'[data-event-id="session-{world.session_a.pk}"]')).to_be_visible()
    page.get_by_label("Show follow-up windows").check()
    page.get_by_role("button", name="Next").click()  # the windows open the day after
    expect(page.locator(f'[data-event-id="integration_window-{world.window_a.pk}"]').first).to_be_visible()
    assert_accessible(page)


def test_the_front_desk_books_a_course_from_the_preview_and_sees_it_on_the_calendar(
    page: Page, world: World, monday: dt.date
) -> None:
    casey = factories.screened_patient(clinician=world.clinic.clinicians[0], first_name="Casey", last_name="Gamma")
    first = monday + dt.timedelta(days=7)
    _open_day(page, world, first)
    page.get_by_label("Find a patient").fill("Casey")
    expect(page.get_by_label("Patient", exact=True).locator("option")).to_have_text(re.compile("Gamma, Casey"))
    page.get_by_label("First date").fill(first.isoformat())
    page.get_by_role("button", name="Preview").click()
    proposed = page.locator("ol.proposal li")
    expect(proposed.first).to_be_visible()
    count = proposed.count()
    assert count == world.clinic.protocol.induction_session_count
    expect(page.locator(".ec-event.ghost").first).to_be_visible()
    assert not Course.objects.filter(patient=casey).exists()  # a preview writes nothing
    assert_accessible(page)
    page.screenshot(path="var/screenshots/desk-proposal.png")

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("#notice")).to_contain_text(f"Booked: {count} sessions")
    course = Course.objects.get(patient=casey)
    assert course.sessions.count() == count
    expect(page.locator(".ec-event.ghost")).to_have_count(0)
    first_session = course.sessions.order_by("starts_at").first()
    assert first_session is not None
    expect(page.locator(f'[data-event-id="session-{first_session.pk}"]')).to_contain_text("Casey Gamma")


def test_a_refused_proposal_says_the_rule_and_offers_the_next_feasible_date(
    page: Page, world: World, monday: dt.date
) -> None:
    casey = factories.screened_patient(clinician=world.clinic.clinicians[0], first_name="Casey", last_name="Gamma")
    closed = monday + dt.timedelta(days=7)
    for offset in range(5):
        ClosureDay.objects.create(date=closed + dt.timedelta(days=offset), reason="Renovation")
    _open_day(page, world, monday)
    page.get_by_label("Find a patient").fill("Gamma")
    expect(page.get_by_label("Patient", exact=True).locator("option")).to_have_text(re.compile("Casey"))
    page.get_by_label("First date").fill(closed.isoformat())
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#proposal [role=alert]")).to_contain_text("No course fits")
    retry = page.locator("#proposal button", has_text=f"Try {(closed + dt.timedelta(days=7)).isoformat()}")
    expect(retry).to_be_visible()
    retry.click()
    expect(page.locator("ol.proposal li").first).to_be_visible()
    assert not Course.objects.filter(patient=casey).exists()


def _drag(page: Page, source: Any, *, dx: float, dy: float) -> None:
    box = source.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + 10
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=8)
    page.mouse.move(x + dx, y + dy, steps=8)
    page.mouse.up()
    page.wait_for_load_state("networkidle")


def test_a_session_dragged_onto_a_busy_chair_snaps_back_and_says_why_then_moves_to_a_free_slot(
    page: Page, world: World, monday: dt.date
) -> None:
    session = world.session_a
    window_opens = IntegrationWindow.objects.get(session=session).opens_at
    _open_day(page, world, monday)
    event = page.locator(f'[data-event-id="session-{session.pk}"]')
    expect(event).to_be_visible()
    before = event.bounding_box()
    assert before is not None
    columns = page.locator(".ec-col-head")
    chair_0, chair_1 = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert chair_0 is not None and chair_1 is not None

    # Onto the other chair at the same time: Blake is in it.
    _drag(page, event, dx=chair_1["x"] - chair_0["x"], dy=0)
    expect(page.locator("#notice .error")).to_contain_text("Not moved")
    after = event.bounding_box()
    assert after is not None and abs(after["x"] - before["x"]) < 2
    session.refresh_from_db()
    assert session.chair_id == world.clinic.chairs[0].pk and session.starts_at == at(monday, 8)

    # Four hours later in its own chair: free. The window follows the session.
    minutes = (session.ends_at - session.starts_at).total_seconds() / 60
    _drag(page, event, dx=0, dy=before["height"] / minutes * 240)
    expect(page.locator("#notice .success")).to_contain_text("Moved to")
    session.refresh_from_db()
    assert session.starts_at == at(monday, 12)
    window = IntegrationWindow.objects.get(session=session)
    assert window.opens_at - window_opens == dt.timedelta(hours=4)
    assert TreatmentSession.objects.filter(pk=session.pk, chair_id=world.clinic.chairs[0].pk).exists()


def test_the_front_desk_books_a_maintenance_series_from_a_session_and_cancels_a_session(
    page: Page, world: World, monday: dt.date
) -> None:
    _open_day(page, world, monday)
    page.locator(f'[data-event-id="session-{world.session_a.pk}"]').click()
    expect(page.locator("#selected")).to_be_visible()
    first = monday + dt.timedelta(days=42)
    page.get_by_label("First maintenance session").fill(f"{first.isoformat()}T10:00")
    page.get_by_label("Every (days)").fill("21")
    page.get_by_label("Sessions", exact=True).fill("2")
    page.get_by_role("button", name="Book the series").click()
    expect(page.locator("#notice .success")).to_contain_text("Maintenance booked: 2 sessions")
    series = TreatmentSession.objects.filter(course=world.course_a, starts_at__gte=at(first, 0)).order_by("starts_at")
    assert [s.starts_at for s in series] == [at(first, 10), at(first + dt.timedelta(days=21), 10)]

    page.locator(f'[data-event-id="session-{world.session_b.pk}"]').click()
    assert_accessible(page)
    page.get_by_label("Reason to cancel").fill("Patient unwell")
    page.get_by_role("button", name="Cancel this session").click()
    expect(page.locator("#notice .success")).to_contain_text("Session cancelled")
    world.session_b.refresh_from_db()
    assert world.session_b.status == TreatmentSession.Status.CANCELLED
    expect(page.locator(f'[data-event-id="session-{world.session_b.pk}"]')).to_have_count(0)


def test_the_front_desk_makes_up_a_held_session_and_hears_when_a_cancel_leaves_a_course_short(
    page: Page, world: World, monday: dt.date
) -> None:
    session_hold(session_id=world.session_a.pk, reason="BP 170/104 before dosing")
    _open_day(page, world, monday)
    page.locator(f'[data-event-id="session-{world.session_a.pk}"]').click()
    expect(page.locator("#make-up-form")).to_be_visible()
    expect(page.locator("#move-form button")).to_be_disabled()
    assert_accessible(page)
    last = world.course_a.sessions.order_by("-sequence").first()
    assert last is not None
    day = last.local_date + dt.timedelta(days=7 - last.local_date.weekday())
    page.get_by_label("Make-up session").fill(f"{day.isoformat()}T10:00")
    page.get_by_role("button", name="Book the make-up").click()
    expect(page.locator("#notice .success")).to_contain_text("Make-up session booked")
    made_up = TreatmentSession.objects.get(make_up_for=world.session_a)
    assert made_up.starts_at == at(day, 10) and made_up.status == TreatmentSession.Status.SCHEDULED

    # Patient B's course: cancel until one session below the protocol's minimum.
    sessions = list(world.course_b.sessions.order_by("sequence"))
    minimum = world.course_b.protocol.induction_sessions_min
    for session in sessions[minimum:]:
        session_cancel(session_id=session.pk)
    page.reload()
    page.wait_for_load_state("networkidle")
    page.locator(f'[data-event-id="session-{world.session_b.pk}"]').click()
    page.get_by_label("Reason to cancel").fill("Patient unwell")
    page.get_by_role("button", name="Cancel this session").click()
    expect(page.locator("#notice .success")).to_contain_text(f"at least {minimum}")
    assert Course.objects.get(pk=world.course_b.pk).induction_incomplete_at is not None
