"""The feed a token opens: none once its owner has lost their access."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.calendars.calendar_data import client_for, issue, patient_login, read

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_clock")]


@pytest.mark.parametrize("closed", ["staff_member", "staff_user"])
def test_a_staff_feed_ends_when_its_owner_is_deactivated(clinic: factories.Clinic, booked: Any, closed: str) -> None:
    member = clinic.clinicians[0]
    feed = issue(client_for(member.user))
    read(feed["url"])
    if closed == "staff_member":
        member.is_active = False
        member.save(update_fields=["is_active"])
    else:
        member.user.is_active = False
        member.user.save(update_fields=["is_active"])
    assert APIClient().get(feed["url"]).status_code == 404


def test_a_patient_feed_ends_when_their_account_is_closed(clinic: factories.Clinic, booked: Any, patient: Any) -> None:
    user = patient_login(patient)
    feed = issue(client_for(user))
    read(feed["url"])
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert APIClient().get(feed["url"]).status_code == 404
