"""The feed endpoint: every read of a feed is in the audit trail, by the feed's id, never its token."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from tests import factories
from tests.calendars.calendar_data import client_for, issue, patient_login, read

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_clock")]


def test_every_feed_read_is_in_the_audit_trail_with_the_patients_it_showed(
    clinic: factories.Clinic, booked: Any, patient: Any
) -> None:
    staff_feed = issue(client_for(clinic.clinicians[0].user))
    empty_feed = issue(client_for(clinic.clinicians[1].user))  # nobody booked with them
    own_feed = issue(client_for(patient_login(patient)))

    for feed in (staff_feed, empty_feed, own_feed):
        read(feed["url"])

    trail = AuditEvent.objects.filter(channel=AuditEvent.Channel.FEED).order_by("id")
    assert [(e.object_id, e.patient_ids, e.action) for e in trail] == [
        (str(staff_feed["id"]), [patient.pk], AuditEvent.Action.VIEW),
        (str(own_feed["id"]), [patient.pk], AuditEvent.Action.VIEW),
    ]
    assert all(e.object_type == "calendars.calendarfeed" and e.status_code == 200 for e in trail)
    # The URL is the feed's credential: the trail names the feed by id and never keeps its token.
    tokens = [feed["url"].rsplit("/", 1)[1].removesuffix(".ics") for feed in (staff_feed, own_feed)]
    assert all(e.path == "/api/v1/feeds/***.ics" for e in trail)
    assert not any(token in str(e.__dict__) for token in tokens for e in trail)
