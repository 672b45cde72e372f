"""Patients and screenings: what the patient services accept, and what they refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from ketaminecare.errors import DomainError, InvalidInput
from ketaminecare.roles import Role
from patients.models import Contraindication, Patient, Screening
from patients.services import patient_create, screening_record
from tests import factories

pytestmark = pytest.mark.django_db

ALL_CHECKED = list(Contraindication.values)


@pytest.fixture
def clinician() -> Any:
    return factories.StaffMemberFactory(role=Role.CLINICIAN).user


def record(patient: Patient, clinician: Any, **overrides: Any) -> Screening:
    fields: dict[str, Any] = {
        "performed_on": dt.date(2031, 5, 20),
        "outcome": Screening.Outcome.ELIGIBLE,
        "valid_until": dt.date(2031, 11, 20),
        "informed_consent_off_label": True,
        "contraindications_checked": ALL_CHECKED,
    }
    fields.update(overrides)
    return screening_record(patient=patient, clinician=clinician, **fields)


def test_screening_record_of_an_eligible_patient_is_current_within_its_dates(clinician):
    patient = factories.PatientFactory()

    screening = record(patient, clinician, notes="BP 128/82")

    assert screening.patient == patient and screening.clinician == clinician
    assert screening.contraindications_checked == ALL_CHECKED
    assert screening.contraindications_found == []
    assert screening.is_current_on(dt.date(2031, 6, 2))
    assert not screening.is_current_on(dt.date(2031, 11, 21))
    assert not screening.is_current_on(dt.date(2031, 5, 19))


def test_screening_record_not_eligible_with_a_contraindication_found(clinician):
    screening = record(
        factories.PatientFactory(),
        clinician,
        outcome=Screening.Outcome.NOT_ELIGIBLE,
        informed_consent_off_label=False,
        contraindications_found=[Contraindication.PSYCHOSIS_HISTORY],
    )
    assert screening.outcome == Screening.Outcome.NOT_ELIGIBLE
    assert not screening.is_current_on(dt.date(2031, 6, 2))


@pytest.mark.parametrize(
    ("overrides", "rule", "field"),
    [
        ({"contraindications_checked": ["left_handedness"]}, "known_code", "contraindications_checked"),
        ({"contraindications_found": ["left_handedness"]}, "known_code", "contraindications_found"),
        ({"outcome": "probably_fine"}, "choice", "outcome"),
        ({"valid_until": dt.date(2031, 5, 19)}, "after_performed", "valid_until"),
        ({"informed_consent_off_label": False}, "consent_required", "informed_consent_off_label"),
        ({"contraindications_found": [Contraindication.PREGNANCY]}, "contraindication_found", "outcome"),
        ({"contraindications_checked": ALL_CHECKED[:-1]}, "all_checked", "contraindications_checked"),
    ],
    ids=[
        "unknown_checked",
        "unknown_found",
        "unknown_outcome",
        "valid_before_performed",
        "eligible_without_consent",
        "eligible_with_contraindication",
        "eligible_not_all_checked",
    ],
)
def test_screening_record_refuses_bad_input_and_writes_nothing(clinician, overrides, rule, field):
    patient = factories.PatientFactory()
    before = Screening.objects.count()

    with pytest.raises(DomainError) as caught:
        record(patient, clinician, **overrides)

    assert type(caught.value) is InvalidInput
    assert (caught.value.rule, caught.value.field) == (rule, field)
    assert Screening.objects.count() == before


def test_database_refuses_an_eligible_screening_without_consent(clinician):
    patient = factories.PatientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ScreeningFactory(patient=patient, clinician=clinician, informed_consent_off_label=False)
    assert not Screening.objects.filter(patient=patient).exists()


def test_patient_create_strips_names_and_keeps_the_time_zone():
    patient = patient_create(
        first_name=" Avery ", last_name=" Quinn ", date_of_birth=dt.date(1980, 1, 2), time_zone="America/Chicago"
    )
    assert (patient.first_name, patient.last_name, patient.time_zone) == ("Avery", "Quinn", "America/Chicago")


@pytest.mark.parametrize(
    ("fields", "rule", "field"),
    [
        ({"first_name": " ", "last_name": "Quinn"}, "required", "last_name"),
        (
            {"first_name": "Avery", "last_name": "Quinn", "time_zone": "Mars/Olympus_Mons"},
            "iana_time_zone",
            "time_zone",
        ),
    ],
    ids=["blank_name", "unknown_zone"],
)
def test_patient_create_refuses_bad_input_and_writes_nothing(fields, rule, field):
    before = Patient.objects.count()
    with pytest.raises(InvalidInput) as caught:
        patient_create(date_of_birth=dt.date(1980, 1, 2), **fields)
    assert (caught.value.rule, caught.value.field) == (rule, field)
    assert Patient.objects.count() == before
