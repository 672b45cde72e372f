"""Reads of patients and their screening, each scoped to what a user may see.

Visibility is the access policy's records' scope (ketaminecare.access.records), applied in the
queryset: a patient's querysets hold their own rows only, so another patient's id answers 404 and
no list can carry anyone else."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ketaminecare.access import labels
from ketaminecare.access.records import scope_q
from patients.models import Patient, Screening


def patient_id_of(user: Any) -> int | None:
    """The patient record a patient login belongs to, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Patient.objects.filter(user=user).values_list("id", flat=True).first()


def patients_visible_to(user: Any) -> QuerySet[Patient]:
    return Patient.objects.filter(scope_q(user, labels.PATIENT))


def screenings_visible_to(user: Any) -> QuerySet[Screening]:
    """Screenings are clinical: the clinic's staff only (the front desk reads the outcome)."""
    return Screening.objects.select_related("patient", "clinician").filter(scope_q(user, labels.SCREENING))
