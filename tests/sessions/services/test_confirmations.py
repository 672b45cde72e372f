"""A patient's confirmation: recorded once, refused for a visit that is over, cleared by a move."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaminecare.errors import InvalidTransition
from sessions.services.confirmations import session_attendance_confirm
from sessions.services.lifecycle import session_cancel
from sessions.services.reschedule import session_reschedule
from tests.conftest import at
from tests.sessions.services.booking_data import first_session

pytestmark = pytest.mark.django_db


def test_a_confirmation_keeps_its_first_moment(course, now):
    session = first_session(course)

    session_attendance_confirm(session_id=session.pk, now=now)
    again = session_attendance_confirm(session_id=session.pk, now=now + dt.timedelta(hours=1))

    assert again.confirmed_at == now


def test_a_cancelled_session_cannot_be_confirmed(course, now):
    session = first_session(course)
    session_cancel(session_id=session.pk, reason="Ill", now=now)

    with pytest.raises(InvalidTransition):
        session_attendance_confirm(session_id=session.pk, now=now)


def test_a_move_clears_the_confirmation_of_the_old_time(course, monday, now):
    session = first_session(course)
    session_attendance_confirm(session_id=session.pk, now=now)

    moved = session_reschedule(session_id=session.pk, starts_at=at(monday, 10), now=now).session

    assert moved.confirmed_at is None
