"""The measures API per role: answering (a patient for themselves only), the scores in the answer,
refusals naming the item, lists scoped by the policy, alerts and their acknowledgement, a course's
progress, and the audit rows every write and read leaves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from measures.models import Measure, MeasureAlert
from reminders.models import Reminder, ReminderKind
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

PHQ9_ITEM9 = [2, 2, 1, 1, 1, 0, 0, 0, 1]  # 8, mild, item 9 above 0


def post(world: World, role: str, body: dict[str, Any]) -> Any:
    return world.client(role).post("/api/v1/measures/", body, format="json")


def test_a_patient_answers_a_phq9_for_themselves_and_reads_the_score(world: World):
    response = post(world, "patient_a", {"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 0, 0, 0, 0]})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["patient"], body["course"], body["instrument"]) == (world.patient_a.pk, world.course_a.pk, "phq9")
    assert (body["total"], body["severity"], body["clusters"], body["probable_ptsd"], body["alert"]) == (
        5,
        "mild",
        None,
        None,
        False,
    )
    assert body["source"] == "patient"
    assert body["loinc"] == {"panel": "44249-1", "total": "44261-6"}


def test_a_clinician_enters_a_pcl5_with_clusters_and_the_cutoff(world: World):
    answers = [2] * 5 + [3, 3] + [2] * 7 + [1] * 6  # B 10, C 6, D 14, E 6: 36
    response = post(world, "clinician", {"patient": world.patient_a.pk, "instrument": "pcl5", "answers": answers})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["total"], body["severity"], body["probable_ptsd"], body["source"]) == (36, None, True, "staff")
    assert body["clusters"] == {"B": 10, "C": 6, "D": 14, "E": 6}


def test_a_patient_posting_for_another_patient_gets_404_and_nothing_is_written(world: World):
    body = {"patient": world.patient_a.pk, "instrument": "phq9", "answers": PHQ9_ITEM9}
    response = post(world, "patient_b", body)

    assert response.status_code == 404
    assert response.json()["rule"] == "exists"
    assert not Measure.objects.exists() and not MeasureAlert.objects.exists()


def test_a_patient_naming_another_patients_course_gets_404(world: World):
    body = {"instrument": "gad7", "answers": [0] * 7, "course": world.course_b.pk}
    assert post(world, "patient_a", body).status_code == 404


def test_staff_naming_a_course_of_another_patient_gets_400_naming_the_course(world: World):
    body = {"patient": world.patient_a.pk, "instrument": "gad7", "answers": [0] * 7, "course": world.course_b.pk}
    response = post(world, "clinician", body)
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["rule"]) == ("course", "course_of_patient")


def test_staff_must_name_the_patient(world: World):
    response = post(world, "clinician", {"instrument": "gad7", "answers": [0] * 7})
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["rule"]) == ("patient", "required")


@pytest.mark.parametrize(
    ("answers", "field", "rule"),
    [
        ([0, 1, 2, 7, 0, 0, 0, 0, 0], "answers[3]", "out_of_range"),
        ([0, 1, 2, None, 0, 0, 0, 0, 0], "answers[3]", "required"),
        ([0, 1, 2, "x", 0, 0, 0, 0, 0], "answers[3]", "integer"),
        ([0, 1, 2, 1.5, 0, 0, 0, 0, 0], "answers[3]", "integer"),
        ([0, 1, 2], "answers[3]", "answer_count"),
        ([0] * 10, "answers[9]", "answer_count"),
        ("0,1,2", "answers", "invalid"),
    ],
)
def test_a_wrong_answer_is_refused_with_400_naming_the_item(world: World, answers: Any, field: str, rule: str):
    response = post(world, "patient_a", {"instrument": "phq9", "answers": answers})

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"], body["rule"]) == ("invalid_input", field, rule)
    assert not Measure.objects.exists()


def test_an_unknown_instrument_or_a_missing_answer_list_is_refused(world: World):
    assert post(world, "patient_a", {"instrument": "bdi", "answers": [0]}).json()["field"] == "instrument"
    assert post(world, "patient_a", {"instrument": "gad7"}).json()["field"] == "answers"


@pytest.mark.parametrize("role", ["front_desk", "therapist"])
def test_front_desk_and_therapists_have_no_measures(world: World, role: str):
    body = {"patient": world.patient_a.pk, "instrument": "gad7", "answers": [0] * 7}
    assert post(world, role, body).status_code == 403
    assert world.client(role).get("/api/v1/measures/").status_code == 403
    assert world.client(role).get("/api/v1/measure-alerts/").status_code == 403


def test_lists_are_scoped_and_filter_by_patient(world: World):
    for patient in (world.patient_a, world.patient_b):
        post(world, "clinician", {"patient": patient.pk, "instrument": "gad7", "answers": [1] * 7})

    mine = world.client("patient_a").get("/api/v1/measures/").json()["results"]
    assert [row["patient"] for row in mine] == [world.patient_a.pk]
    everyone = world.client("clinician").get("/api/v1/measures/").json()["results"]
    assert {row["patient"] for row in everyone} == {world.patient_a.pk, world.patient_b.pk}
    one = world.client("administrator").get("/api/v1/measures/", {"patient": world.patient_b.pk}).json()["results"]
    assert [row["patient"] for row in one] == [world.patient_b.pk]
    other = world.client("patient_a").get("/api/v1/measures/", {"patient": world.patient_b.pk}).json()["results"]
    assert other == []


def test_item_9_alerts_the_clinicians_who_see_and_acknowledge_it(world: World):
    response = post(world, "patient_a", {"instrument": "phq9", "answers": PHQ9_ITEM9})
    assert response.status_code == 201
    assert response.json()["alert"] is True
    alert = MeasureAlert.objects.get()
    assert Reminder.objects.filter(alert=alert, kind=ReminderKind.MEASURE_ALERT).exists()

    listed = world.client("administrator").get("/api/v1/measure-alerts/", {"status": "open"}).json()["results"]
    assert [(row["id"], row["status"], row["measure"]) for row in listed] == [(alert.pk, "open", response.json()["id"])]
    assert world.client("patient_a").get(f"/api/v1/measure-alerts/{alert.pk}/").status_code == 403
    path = f"/api/v1/measure-alerts/{alert.pk}/acknowledge/"
    assert world.client("administrator").post(path, {}, format="json").status_code == 403

    done = world.client("clinician").post(path, {"note": "Spoke with the patient."}, format="json")

    assert done.status_code == 200
    assert (done.json()["status"], done.json()["acknowledged_by"]) == ("acknowledged", world.users["clinician"].pk)
    again = world.client("clinician").post(path, {}, format="json")
    assert (again.status_code, again.json()["rule"]) == (409, "acknowledge_from_acknowledged")
    assert world.client("clinician").get("/api/v1/measure-alerts/", {"status": "open"}).json()["results"] == []
    assert not Reminder.objects.filter(alert=alert, status__in=Reminder.LIVE_STATUSES).exists()


def test_course_progress_gives_baseline_latest_and_the_phq9_flags(world: World):
    for answers in ([3, 3, 3, 2, 2, 2, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0]):  # 16, then 4
        assert post(world, "patient_a", {"instrument": "phq9", "answers": answers}).status_code == 201
    path = f"/api/v1/courses/{world.course_a.pk}/progress/"

    (phq9,) = world.client("patient_a").get(path).json()

    assert (phq9["course"], phq9["instrument"], phq9["count"]) == (world.course_a.pk, "phq9", 2)
    assert (phq9["baseline"]["total"], phq9["latest"]["total"], phq9["change"]) == (16, 4, -12)
    assert (phq9["percent_change"], phq9["response"], phq9["remission"]) == (-75.0, True, True)
    assert phq9["clinically_meaningful"] is None
    assert world.client("patient_b").get(path).status_code == 404
    assert world.client("front_desk").get(path).status_code == 403
    assert world.client("clinician").get(path).json() == [phq9]


def test_every_write_and_read_leaves_an_audit_row(world: World):
    created = post(world, "clinician", {"patient": world.patient_a.pk, "instrument": "phq9", "answers": PHQ9_ITEM9})
    alert = MeasureAlert.objects.get()
    world.client("clinician").post(f"/api/v1/measure-alerts/{alert.pk}/acknowledge/", {}, format="json")
    world.client("patient_a").get("/api/v1/measures/")

    events = list(AuditEvent.objects.order_by("id"))
    assert [(e.action, e.verb, e.object_type, e.patient_ids) for e in events] == [
        ("create", "create", "measures.measure", [world.patient_a.pk]),
        ("action", "acknowledge", "measures.measurealert", [world.patient_a.pk]),
        ("list", "list", "measures.measure", [world.patient_a.pk]),
    ]
    assert events[0].object_id == str(created.json()["id"])


def test_staff_enter_a_paper_form_with_when_it_was_answered_and_patients_may_not(world: World):
    body = {"patient": world.patient_a.pk, "instrument": "gad7", "answers": [1] * 7}
    answered = (timezone.now() - dt.timedelta(days=3)).replace(microsecond=0)
    paper = post(world, "clinician", {**body, "answered_at": answered.isoformat()})
    assert paper.status_code == 201, paper.json()
    assert Measure.objects.get(pk=paper.json()["id"]).answered_at == answered

    ahead = post(world, "clinician", {**body, "answered_at": "2999-01-01T00:00:00Z"})
    assert (ahead.status_code, ahead.json()["field"], ahead.json()["rule"]) == (400, "answered_at", "in_the_future")
    own = post(world, "patient_a", {**body, "answered_at": answered.isoformat()})
    assert (own.status_code, own.json()["field"], own.json()["rule"]) == (400, "answered_at", "forbidden_field")
