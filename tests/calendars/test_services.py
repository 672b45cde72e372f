"""Feeds issued, rotated and revoked: tokens kept as hashes, one live URL per owner, who may manage which."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from rest_framework.test import APIClient

from calendars.models import CalendarFeed
from ketaminecare.roles import Role
from tests import factories
from tests.calendars.calendar_data import FEEDS, client_for, issue, patient_login, read

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("feed_clock")]


def test_no_feed_is_issued_for_an_inactive_person(clinic: factories.Clinic, patient: Any) -> None:
    desk = client_for(clinic.front_desk.user)
    member = clinic.clinicians[1]
    member.is_active = False
    member.save(update_fields=["is_active"])
    refused = desk.post(FEEDS, {"staff": member.pk}, format="json")
    assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (409, "feed_owner_active", "staff")
    user = patient_login(patient)
    user.is_active = False
    user.save(update_fields=["is_active"])
    refused = desk.post(FEEDS, {"patient": patient.pk}, format="json")
    assert (refused.status_code, refused.json()["rule"]) == (409, "feed_owner_active")
    assert not CalendarFeed.objects.exists()


def test_revoked_and_unknown_tokens_answer_404(clinic: factories.Clinic, booked: Any) -> None:
    client = client_for(clinic.clinicians[0].user)
    feed = issue(client)
    read(feed["url"])

    response = client.post(f"{FEEDS}{feed['id']}/revoke/")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None

    gone = APIClient().get(feed["url"])
    assert gone.status_code == 404
    assert gone.json()["code"] == "not_found"
    assert APIClient().get(f"{FEEDS}{'x' * 43}.ics").status_code == 404
    assert client.post(f"{FEEDS}{feed['id']}/revoke/").status_code == 409


def test_rotate_makes_the_old_token_404_and_the_new_one_work(clinic: factories.Clinic, booked: Any) -> None:
    client = client_for(clinic.clinicians[0].user)
    old = issue(client)

    response = client.post(f"{FEEDS}{old['id']}/rotate/")

    assert response.status_code == 201
    new = response.json()
    assert new["token"] != old["token"]
    assert APIClient().get(old["url"]).status_code == 404
    read(new["url"])


def test_only_the_tokens_hash_is_stored_and_a_new_feed_revokes_the_last(clinic: factories.Clinic, booked: Any) -> None:
    client = client_for(clinic.clinicians[0].user)
    first = issue(client)
    second = issue(client)

    stored = CalendarFeed.objects.get(pk=second["id"])
    assert stored.token_hash == hashlib.sha256(second["token"].encode()).hexdigest()
    assert second["token"] not in stored.token_hash
    assert CalendarFeed.objects.get(pk=first["id"]).revoked_at is not None
    assert APIClient().get(first["url"]).status_code == 404
    listed = client.get(FEEDS).json()
    assert {f["id"] for f in listed["results"]} == {first["id"], second["id"]}
    assert "token" not in str(listed)


def test_who_may_manage_which_feed(clinic: factories.Clinic, booked: Any) -> None:
    alice = booked.patient
    bob = factories.screened_patient(clinician=clinic.clinicians[0])
    alice_client = client_for(patient_login(alice))
    bob_client = client_for(patient_login(bob))
    clinician = client_for(clinic.clinicians[0].user)
    front_desk = client_for(clinic.front_desk.user)
    admin = client_for(factories.StaffMemberFactory(role=Role.ADMINISTRATOR).user)

    # A patient: their own feed only; another patient's id answers 404.
    own = issue(alice_client)
    assert own["patient"] == alice.pk and own["staff"] is None
    assert alice_client.post(FEEDS, {"patient": bob.pk}, format="json").status_code == 404
    assert alice_client.post(FEEDS, {"staff": clinic.clinicians[0].pk}, format="json").status_code == 403
    assert bob_client.post(f"{FEEDS}{own['id']}/rotate/").status_code == 404
    assert bob_client.post(f"{FEEDS}{own['id']}/revoke/").status_code == 404
    assert bob_client.get(FEEDS).json()["results"] == []
    # A clinician: their own feed, nobody else's.
    refused = clinician.post(FEEDS, {"staff": clinic.clinicians[1].pk}, format="json")
    assert refused.status_code == 403 and refused.json()["field"] == "staff"
    assert clinician.post(FEEDS, {"patient": alice.pk}, format="json").status_code == 403
    assert clinician.post(f"{FEEDS}{own['id']}/rotate/").status_code == 404
    # Front desk and administrators: any staff member's and any patient's feed.
    for manager in (front_desk, admin):
        assert issue(manager, patient=bob.pk)["patient"] == bob.pk
        assert issue(manager, staff=clinic.clinicians[1].pk)["staff"] == clinic.clinicians[1].pk
    assert front_desk.post(f"{FEEDS}{own['id']}/rotate/").status_code == 201
    assert front_desk.post(FEEDS, {"patient": 10**9}, format="json").status_code == 404
    both = front_desk.post(FEEDS, {"patient": bob.pk, "staff": clinic.clinicians[1].pk}, format="json")
    assert both.status_code == 400
    assert front_desk.post(FEEDS, {"owner": 1}, format="json").status_code == 400
    # An administrator without a staff record has no calendar of their own to default to.
    superuser = factories.UserFactory(is_superuser=True)
    assert client_for(superuser).post(FEEDS, {}, format="json").json()["rule"] == "owner_required"
    assert APIClient().post(FEEDS, {}, format="json").status_code == 401
