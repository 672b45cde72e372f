"""What the patients, courses and reschedule requests endpoints do, beyond who may call them:
preferences, requests, overrides, cancel and maintenance."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from patients.models import Patient
from sessions.models import RescheduleRequest, RuleOverride, TreatmentSession
from tests.api.conftest import World
from tests.conftest import CLINIC_ZONE, at

pytestmark = pytest.mark.django_db


def test_a_patient_opts_out_and_back_in_and_the_moment_is_kept(world: World):
    client = world.client("patient_a")
    out = client.patch(
        "/api/v1/me/preferences/", {"sms_opted_out": True, "quiet_hours_start": "22:30"}, format="json"
    ).json()
    assert out["sms_opted_out"] is True and out["sms_opted_out_at"]
    assert out["quiet_hours_start"] == "22:30:00"
    patient = Patient.objects.get(pk=world.patient_a.pk)
    assert not patient.channel_allowed("sms")
    back = client.patch("/api/v1/me/preferences/", {"sms_opted_out": False}, format="json").json()
    assert back["sms_opted_out"] is False and back["sms_opted_out_at"] is None
    assert Patient.objects.get(pk=world.patient_b.pk).sms_opted_out_at is None


def test_a_patients_request_reaches_the_front_desk_who_closes_it(world: World):
    session = world.course_a.sessions.get(sequence=3)
    asked = world.client("patient_a").post(
        f"/api/v1/sessions/{session.pk}/request-reschedule/", {"message": "Work trip"}, format="json"
    )
    assert asked.status_code == 201
    open_requests = world.client("front_desk").get("/api/v1/reschedule-requests/", {"status": "open"}).json()
    assert asked.json()["id"] in {r["id"] for r in open_requests["results"]}
    handled = world.client("front_desk").post(
        f"/api/v1/reschedule-requests/{asked.json()['id']}/handle/", {"outcome": "declined"}, format="json"
    )
    assert handled.json()["status"] == "declined"
    assert RescheduleRequest.objects.get(pk=asked.json()["id"]).handled_by == world.users["front_desk"]


def test_a_clinician_sets_a_course_rule_aside_with_a_reason(world: World):
    second = world.course_a.sessions.get(sequence=2)
    too_close = world.session_a.starts_at + dt.timedelta(days=1)
    client = world.client("clinician")
    refused = client.post(
        f"/api/v1/sessions/{second.pk}/reschedule/", {"starts_at": too_close.isoformat()}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "min_gap"
    moved = client.post(
        f"/api/v1/sessions/{second.pk}/reschedule/",
        {"starts_at": too_close.isoformat(), "override_reason": "Patient travels; prescriber agreed."},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert [o["rule"] for o in moved.json()["overrides"]] == ["min_gap"]
    assert RuleOverride.objects.filter(session=second, rule="min_gap").exists()


def test_course_cancel_and_maintenance_series(world: World):
    client = world.client("front_desk")
    first = world.session_a.local_date + dt.timedelta(days=28)
    series = client.post(
        f"/api/v1/courses/{world.course_a.pk}/maintenance/",
        {
            "first_starts_at": at(first, 10).isoformat(),
            "chair": world.clinic.chairs[0].pk,
            "clinician": world.clinic.clinicians[0].pk,
            "interval_days": 21,
            "count": 3,
        },
        format="json",
    )
    assert series.status_code == 201, series.json()
    starts = [dt.datetime.fromisoformat(s["starts_at"]) for s in series.json()["sessions"]]
    assert [s.astimezone(CLINIC_ZONE).hour for s in starts] == [10, 10, 10]
    assert [(b - a).days for a, b in itertools.pairwise(starts)] == [21, 21]
    cancelled = client.post(f"/api/v1/courses/{world.course_a.pk}/cancel/", {"reason": "Moved away"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    assert not TreatmentSession.objects.filter(course=world.course_a, status=TreatmentSession.Status.SCHEDULED).exists()
