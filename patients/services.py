"""Writes of patients and their screening: each action one function, checked whole, atomic."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaminecare.errors import InvalidInput
from ketaminecare.rules import Rule
from patients.models import Contraindication, Patient, Screening, validate_time_zone


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
        raise InvalidInput("A patient needs a first and a last name.", field="last_name", rule=Rule.REQUIRED)
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            raise InvalidInput(str(exc.messages[0]), field="time_zone", rule=Rule.IANA_TIME_ZONE) from exc
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
            raise InvalidInput(f"Unknown contraindications: {', '.join(unknown)}.", field=name, rule=Rule.KNOWN_CODE)
    if outcome not in Screening.Outcome.values:
        raise InvalidInput("Unknown outcome.", field="outcome", rule=Rule.CHOICE)
    if valid_until < performed_on:
        raise InvalidInput(
            "A screening is valid from the day it was done.", field="valid_until", rule=Rule.AFTER_PERFORMED
        )
    if outcome == Screening.Outcome.ELIGIBLE:
        if not informed_consent_off_label:
            raise InvalidInput(
                "Eligibility needs informed consent to off-label use.",
                field="informed_consent_off_label",
                rule=Rule.CONSENT_REQUIRED,
            )
        if found:
            raise InvalidInput(
                "A patient with a contraindication found cannot be marked eligible.",
                field="outcome",
                rule=Rule.CONTRAINDICATION_FOUND,
            )
        missing = sorted(known - set(checked))
        if missing:
            raise InvalidInput(
                f"Eligibility needs every contraindication checked; missing: {', '.join(missing)}.",
                field="contraindications_checked",
                rule=Rule.ALL_CHECKED,
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


PATIENT_EDITABLE = (
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "time_zone",
    "remind_by_sms",
    "remind_by_email",
    "quiet_hours_start",
    "quiet_hours_end",
)


def _check_time_zone(time_zone: str) -> None:
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise InvalidInput(str(exc.messages[0]), field="time_zone", rule=Rule.IANA_TIME_ZONE) from exc


def patient_update(*, patient_id: int, **changes: Any) -> Patient:
    """Change a patient's details and reminder settings; only the names in PATIENT_EDITABLE."""
    unknown = sorted(set(changes) - set(PATIENT_EDITABLE))
    if unknown:
        raise InvalidInput("This field cannot be changed.", field=unknown[0], rule=Rule.NOT_EDITABLE)
    for name in ("first_name", "last_name"):
        if name in changes:
            changes[name] = str(changes[name]).strip()
            if not changes[name]:
                raise InvalidInput("A patient needs a first and a last name.", field=name, rule=Rule.REQUIRED)
    if "time_zone" in changes:
        _check_time_zone(changes["time_zone"])
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient_id)
        for name, value in changes.items():
            setattr(patient, name, value)
        if changes:
            patient.save(update_fields=list(changes))
    return patient


def patient_preferences_update(
    *,
    patient_id: int,
    sms_opted_out: bool | None = None,
    email_opted_out: bool | None = None,
    now: dt.datetime | None = None,
    **changes: Any,
) -> Patient:
    """A patient's own reminder settings: channels, opt-outs (kept as the moment), quiet hours, zone.

    Opting out records the moment once (the evidence of a STOP); opting back in clears it.
    """
    allowed = {"remind_by_sms", "remind_by_email", "quiet_hours_start", "quiet_hours_end", "time_zone"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput("This field cannot be changed.", field=unknown[0], rule=Rule.NOT_EDITABLE)
    if "time_zone" in changes:
        _check_time_zone(changes["time_zone"])
    moment = now or timezone.now()
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient_id)
        fields = list(changes)
        for name, value in changes.items():
            setattr(patient, name, value)
        for flag, attr in ((sms_opted_out, "sms_opted_out_at"), (email_opted_out, "email_opted_out_at")):
            if flag is None:
                continue
            current = getattr(patient, attr)
            if flag and current is None:
                setattr(patient, attr, moment)
                fields.append(attr)
            elif not flag and current is not None:
                setattr(patient, attr, None)
                fields.append(attr)
        if fields:
            patient.save(update_fields=fields)
    return patient
