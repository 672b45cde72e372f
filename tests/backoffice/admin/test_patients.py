"""The admin of patients and screenings: pages render, a screening is recorded through the service."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import Contraindication, Screening
from tests import factories

pytestmark = pytest.mark.django_db


def test_patient_search_by_name_phone_and_email(staff_client: Client, clinic: factories.Clinic) -> None:
    wanted = factories.PatientFactory(first_name="Rowan", last_name="Quill", phone="+15559990001")
    factories.PatientFactory(first_name="Other", last_name="Person")
    url = reverse("admin:patients_patient_changelist")
    for term in ("Quill", "Rowan", "+15559990001", wanted.email):
        response = staff_client.get(url, {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [wanted], term


def test_patient_change_page_renders(staff_client: Client, patient: Any) -> None:
    response = staff_client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    assert response.status_code == 200
    assert response.context["original"] == patient


def test_screening_is_recorded_through_the_service(superuser: Client, patient: Any, clinic: factories.Clinic) -> None:
    url = reverse("admin:patients_screening_add")
    base = {
        "patient": patient.pk,
        "clinician": clinic.clinicians[0].user.pk,
        "performed_on": "2031-05-01",
        "valid_until": "2031-12-01",
        "outcome": "eligible",
        "informed_consent_off_label": "on",
        "notes": "",
    }
    before = Screening.objects.count()
    # Eligible with a contraindication left unchecked: the service refuses, nothing is written.
    response = superuser.post(url, {**base, "contraindications_checked": ["pregnancy"]})
    assert response.status_code == 200
    assert "Eligibility needs every contraindication checked" in response.content.decode()
    assert Screening.objects.count() == before
    response = superuser.post(url, {**base, "contraindications_checked": list(Contraindication.values)})
    assert response.status_code == 302
    assert Screening.objects.count() == before + 1
    recorded = Screening.objects.latest("id")
    assert recorded.outcome == Screening.Outcome.ELIGIBLE
    assert sorted(recorded.contraindications_checked) == sorted(Contraindication.values)


def test_screening_and_protocol_pages_render(staff_client: Client, patient: Any, clinic: factories.Clinic) -> None:
    screening = patient.screenings.get()
    for url in (
        reverse("admin:patients_screening_changelist"),
        reverse("admin:patients_screening_change", args=[screening.pk]),
        reverse("admin:courses_treatmentprotocol_changelist"),
        reverse("admin:courses_treatmentprotocol_change", args=[clinic.protocol.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url
