"""Reads of patients, screenings, courses and requests, each scoped to what a user may see.

Visibility is decided here, in the queryset: a patient's querysets hold their own rows only, so
another patient's id answers 404 and no list can carry anyone else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from courses.models import Course, TreatmentProtocol
from ketaminecare.roles import Role, user_roles
from patients.models import Patient, Screening
from sessions.models import RescheduleRequest

# Roles that see every patient's records (what each may change is the views' business).
CLINIC_WIDE = {Role.FRONT_DESK, Role.CLINICIAN, Role.ADMINISTRATOR}


def patient_id_of(user: Any) -> int | None:
    """The patient record a patient login belongs to, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Patient.objects.filter(user=user).values_list("id", flat=True).first()


def sees_whole_clinic(user: Any) -> bool:
    return bool(user_roles(user) & CLINIC_WIDE)


def own_patient_filter(user: Any, field: str = "patient_id") -> dict[str, Any] | None:
    """The filter that keeps a patient login's own rows; None when the user is not a patient."""
    if Role.PATIENT not in user_roles(user):
        return None
    return {field: patient_id_of(user)}


def patients_visible_to(user: Any) -> QuerySet[Patient]:
    qs = Patient.objects.all()
    if sees_whole_clinic(user):
        return qs
    own = own_patient_filter(user, "id")
    return qs.filter(**own) if own else qs.none()


def screenings_visible_to(user: Any) -> QuerySet[Screening]:
    """Screenings are clinical: the clinic's staff only (the front desk reads the outcome)."""
    qs = Screening.objects.select_related("patient", "clinician")
    return qs if sees_whole_clinic(user) else qs.none()


def protocols_active() -> QuerySet[TreatmentProtocol]:
    return TreatmentProtocol.objects.filter(is_active=True)


def courses_visible_to(user: Any) -> QuerySet[Course]:
    from sessions.models import TreatmentSession
    from sessions.selectors import course_list_with_progress

    sessions = TreatmentSession.objects.select_related("integration_window").order_by("sequence")
    # A grouped query ignores Meta.ordering: order explicitly so that pages are stable.
    qs = (
        course_list_with_progress()
        .prefetch_related(Prefetch("sessions", queryset=sessions))
        .order_by("-created_at", "-id")
    )
    if sees_whole_clinic(user):
        return qs
    own = own_patient_filter(user)
    return qs.filter(**own) if own else qs.none()


def reschedule_requests_visible_to(user: Any) -> QuerySet[RescheduleRequest]:
    qs = RescheduleRequest.objects.select_related("patient", "session", "handled_by")
    if sees_whole_clinic(user):
        return qs
    own = own_patient_filter(user)
    return qs.filter(**own) if own else qs.none()
