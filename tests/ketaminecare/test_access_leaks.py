"""Private fields answer the same through every face: here, the API's reschedule answer.

Each case is one that used to leak: a reschedule answer carried the clinical keys to the front
desk. (The admin's cases, which showed the front desk a session's clinical notes and hold reason
and a screening's notes, and a therapist any patient's record: tests/backoffice/test_access_leaks.py.)
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.roles import roles_ensure
from patients.models import Screening
from sessions.models import TreatmentSession
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

HOLD = "BP 190/110 before dose; dissociation history"
NOTES = "Tolerated well; transient nausea"
SCREENING_NOTES = "History of dissociative episodes"


@pytest.fixture
def private_world(world: World) -> World:
    roles_ensure()
    TreatmentSession.objects.filter(pk=world.session_a.pk).update(hold_reason=HOLD, clinical_notes=NOTES, dose_mg=35)
    Screening.objects.filter(patient=world.patient_a).update(notes=SCREENING_NOTES)
    return world


def test_reschedule_answer_carries_clinical_keys_only_for_clinical_roles(private_world: World):
    session = private_world.session_a
    path = f"/api/v1/sessions/{session.pk}/reschedule/"
    answers = {}
    for role in ("front_desk", "clinician"):
        starts = session.starts_at + dt.timedelta(hours=2 if role == "front_desk" else 3)
        response = private_world.client(role).post(path, {"starts_at": starts.isoformat()}, format="json")
        assert response.status_code == 200, response.json()
        answers[role] = response.json()["session"]
    assert not {"dose_mg", "clinical_notes", "hold_reason"} & set(answers["front_desk"])
    assert answers["clinician"]["hold_reason"] == HOLD
    assert answers["clinician"]["clinical_notes"] == NOTES
