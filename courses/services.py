"""Writes for patients, screenings and staff; the role groups and what each may do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from courses.models import Contraindication, Patient, Screening, validate_time_zone
from ketaminecare.errors import InvalidInput
from ketaminecare.roles import Role

# Model permissions per role, as "<app_label>.<action>_<model>". The API applies its own
# object-level rules on top; these govern the admin.
_FRONT_DESK = [
    *(f"courses.{a}_patient" for a in ("view", "add", "change")),
    "courses.view_course",
    "courses.view_treatmentprotocol",
    "courses.view_screening",
    *(f"treatment_sessions.{a}_{m}" for m in ("treatmentsession",) for a in ("view", "change")),
    *(
        f"treatment_sessions.view_{m}"
        for m in ("chair", "clinichours", "closureday", "staffmember", "integrationwindow")
    ),
    *(
        f"treatment_sessions.{a}_{m}"
        for m in ("workinghours", "timeoff", "integrationappointment")
        for a in ("view", "add", "change")
    ),
]
_CLINICIAN = [
    *_FRONT_DESK,
    *(f"courses.{a}_screening" for a in ("add", "change")),
    "treatment_sessions.override_course_rules",
    "treatment_sessions.view_ruleoverride",
]
_THERAPIST = [
    "courses.view_patient",
    "treatment_sessions.view_integrationwindow",
    *(f"treatment_sessions.{a}_integrationappointment" for a in ("view", "add", "change")),
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.FRONT_DESK: _FRONT_DESK,
    Role.CLINICIAN: _CLINICIAN,
    Role.THERAPIST: _THERAPIST,
    Role.PATIENT: [],
}


def roles_ensure() -> None:
    """Create the role groups and give each its permissions (idempotent; runs after migrate)."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        if role == Role.ADMINISTRATOR:
            wanted = Permission.objects.filter(content_type__app_label__in=["courses", "treatment_sessions", "auth"])
        else:
            codes = ROLE_PERMISSIONS[role]
            query = Q(pk__in=[])
            for code in codes:
                app_label, codename = code.split(".")
                query |= Q(content_type__app_label=app_label, codename=codename)
            wanted = Permission.objects.filter(query)
        group.permissions.set(wanted)


def user_with_role(*, username: str, role: str, password: str | None = None, email: str = "", **names: Any) -> Any:
    """A login in one role's group; staff roles may use the admin."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email, **names})
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
    user.is_staff = role != Role.PATIENT
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def patient_create(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str = "",
    email: str = "",
    time_zone: str | None = None,
    user: Any = None,
) -> Patient:
    if not first_name.strip() or not last_name.strip():
        raise InvalidInput("A patient needs a first and a last name.", field="last_name", rule="required")
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            raise InvalidInput(str(exc.messages[0]), field="time_zone", rule="iana_time_zone") from exc
    patient = Patient(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=phone,
        email=email,
        user=user,
    )
    if time_zone:
        patient.time_zone = time_zone
    patient.save()
    return patient


def screening_record(
    *,
    patient: Patient,
    clinician: Any,
    performed_on: dt.date,
    outcome: str,
    valid_until: dt.date,
    informed_consent_off_label: bool,
    contraindications_checked: list[str] | None = None,
    contraindications_found: list[str] | None = None,
    notes: str = "",
) -> Screening:
    """Record a pre-treatment evaluation. Eligibility requires consent and no contraindication."""
    checked = list(contraindications_checked or [])
    found = list(contraindications_found or [])
    known = set(Contraindication.values)
    for name, values in (("contraindications_checked", checked), ("contraindications_found", found)):
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInput(f"Unknown contraindications: {', '.join(unknown)}.", field=name, rule="known_code")
    if outcome not in Screening.Outcome.values:
        raise InvalidInput("Unknown outcome.", field="outcome", rule="choice")
    if valid_until < performed_on:
        raise InvalidInput(
            "A screening is valid from the day it was done.", field="valid_until", rule="after_performed"
        )
    if outcome == Screening.Outcome.ELIGIBLE:
        if not informed_consent_off_label:
            raise InvalidInput(
                "Eligibility needs informed consent to off-label use.",
                field="informed_consent_off_label",
                rule="consent_required",
            )
        if found:
            raise InvalidInput(
                "A patient with a contraindication found cannot be marked eligible.",
                field="outcome",
                rule="contraindication_found",
            )
        missing = sorted(known - set(checked))
        if missing:
            raise InvalidInput(
                f"Eligibility needs every contraindication checked; missing: {', '.join(missing)}.",
                field="contraindications_checked",
                rule="all_checked",
            )
    with transaction.atomic():
        return Screening.objects.create(
            patient=patient,
            clinician=clinician,
            performed_on=performed_on,
            outcome=outcome,
            valid_until=valid_until,
            informed_consent_off_label=informed_consent_off_label,
            contraindications_checked=checked,
            contraindications_found=found,
            notes=notes,
        )
