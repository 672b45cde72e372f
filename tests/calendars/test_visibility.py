"""The one visibility function: which rows and which fields each viewer of the calendar gets."""

from __future__ import annotations

import datetime as dt

import pytest

from calendars.events import (
    CLOSURE,
    INTEGRATION_APPOINTMENT,
    INTEGRATION_WINDOW,
    MAINTENANCE_SESSION,
    SESSION,
    CalendarQuery,
)
from calendars.visibility import MSG_CANCELLED_STAFF_ONLY, Viewer, Visibility, feed_viewer, visible
from ketaminecare.access.events import scopes_for_roles
from ketaminecare.errors import NotAllowed
from ketaminecare.roles import Role

START = dt.datetime(2031, 6, 2, tzinfo=dt.UTC)
QUERY = CalendarQuery(start=START, end=START + dt.timedelta(days=7))


def test_front_desk_and_clinicians_see_every_row_with_details_and_the_hold_reason_only_if_shown_it() -> None:
    desk = visible(query=QUERY, viewer=Viewer(Visibility.FULL))
    clinician = visible(query=QUERY, viewer=Viewer(Visibility.FULL, sees_hold_reason=True))

    assert desk is not None and clinician is not None
    assert desk.query == clinician.query == QUERY
    assert (desk.details, desk.hold_reason, desk.initials) == (True, False, True)
    assert (clinician.details, clinician.hold_reason, clinician.initials) == (True, True, True)


def test_therapists_see_the_kinds_the_policy_gives_them_without_sessions_details() -> None:
    kinds = frozenset(scopes_for_roles({Role.THERAPIST}))
    scope = visible(query=QUERY, viewer=Viewer(Visibility.THERAPIST, kinds=kinds))

    assert scope is not None
    assert scope.query.types == {INTEGRATION_WINDOW, INTEGRATION_APPOINTMENT, CLOSURE}
    assert (scope.details, scope.hold_reason, scope.initials) == (False, False, True)


def test_a_therapists_feed_holds_no_sessions_whatever_it_asks_for() -> None:
    asking = CalendarQuery(start=START, end=QUERY.end, include_cancelled=True)

    scope = visible(query=asking, viewer=feed_viewer(staff_id=3, patient_id=None, role=Role.THERAPIST))

    assert scope is not None
    assert scope.query.staff_ids == frozenset({3})
    assert not scope.query.types & {SESSION, MAINTENANCE_SESSION}


def test_a_patient_sees_their_own_rows_named_by_nobody_and_never_another_patients() -> None:
    alice = Viewer(Visibility.PATIENT, patient_id=7)

    own = visible(query=QUERY, viewer=alice)
    assert own is not None
    assert own.query.patient_ids == frozenset({7})
    assert (own.details, own.hold_reason, own.initials) == (True, False, False)
    # Asking for oneself among others narrows to oneself; asking for another answers nothing.
    mixed = visible(query=CalendarQuery(start=START, end=QUERY.end, patient_ids=frozenset({7, 8})), viewer=alice)
    assert mixed is not None and mixed.query.patient_ids == frozenset({7})
    assert visible(query=CalendarQuery(start=START, end=QUERY.end, patient_ids=frozenset({8})), viewer=alice) is None
    assert visible(query=QUERY, viewer=Viewer(Visibility.PATIENT)) is None


def test_a_patient_asking_for_cancelled_items_is_refused() -> None:
    asking = CalendarQuery(start=START, end=QUERY.end, include_cancelled=True)

    with pytest.raises(NotAllowed) as refused:
        visible(query=asking, viewer=Viewer(Visibility.PATIENT, patient_id=7))

    assert (refused.value.field, refused.value.rule) == ("include_cancelled", "staff_only")
    assert refused.value.message == MSG_CANCELLED_STAFF_ONLY


def test_a_staff_feed_holds_its_owners_bookings_with_cancelled_ones_and_initials_only() -> None:
    asking = CalendarQuery(start=START, end=QUERY.end, include_cancelled=True)

    scope = visible(query=asking, viewer=feed_viewer(staff_id=3, patient_id=None))

    assert scope is not None
    assert scope.query.staff_ids == frozenset({3})
    assert scope.query.include_cancelled is True
    assert (scope.details, scope.hold_reason, scope.initials) == (False, False, True)


def test_a_patient_feed_holds_their_own_bookings_with_cancelled_ones_and_names_nobody() -> None:
    asking = CalendarQuery(start=START, end=QUERY.end, include_cancelled=True)

    scope = visible(query=asking, viewer=feed_viewer(staff_id=None, patient_id=7))

    assert scope is not None
    assert scope.query.patient_ids == frozenset({7})
    assert scope.query.include_cancelled is True
    assert (scope.details, scope.hold_reason, scope.initials) == (False, False, False)


def test_a_feed_without_an_owner_is_an_error() -> None:
    with pytest.raises(ValueError, match="owner"):
        feed_viewer(staff_id=None, patient_id=None)
