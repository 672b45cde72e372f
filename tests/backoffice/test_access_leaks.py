"""Private fields answer in the admin as in the API.

Each case is one that used to leak: the admin showed the front desk a session's clinical notes
and hold reason and a screening's notes; a therapist could open any patient's record in the admin.
(The API's answers on the same fields are tested with the API's.)
"""

from __future__ import annotations

import pytest
from django.test import Client

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


def admin_client(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def test_session_admin_hides_clinical_fields_from_the_front_desk(private_world: World):
    path = f"/admin/treatment_sessions/treatmentsession/{private_world.session_a.pk}/change/"
    desk = admin_client(private_world, "front_desk").get(path)
    clinician = admin_client(private_world, "clinician").get(path)
    assert desk.status_code == clinician.status_code == 200
    desk_html, clinician_html = desk.content.decode(), clinician.content.decode()
    for secret in (HOLD, NOTES):
        assert secret not in desk_html
        assert secret in clinician_html
    assert "Dose mg" not in desk_html and "Dose mg" in clinician_html


def test_screening_admin_hides_notes_and_findings_from_the_front_desk(private_world: World):
    screening = Screening.objects.get(patient=private_world.patient_a)
    path = f"/admin/patients/screening/{screening.pk}/change/"
    desk = admin_client(private_world, "front_desk").get(path)
    clinician = admin_client(private_world, "clinician").get(path)
    assert desk.status_code == clinician.status_code == 200
    assert SCREENING_NOTES not in desk.content.decode()
    assert "Contraindications found" not in desk.content.decode()
    assert SCREENING_NOTES in clinician.content.decode()


def test_therapist_cannot_open_patients_in_the_admin(private_world: World):
    therapist = admin_client(private_world, "therapist")
    assert therapist.get("/admin/patients/patient/").status_code == 403
    assert therapist.get(f"/admin/patients/patient/{private_world.patient_a.pk}/change/").status_code == 403
    # Booking in a window still works: the therapist's own appointments stay open to them.
    assert therapist.get("/admin/treatment_sessions/integrationappointment/").status_code == 200
