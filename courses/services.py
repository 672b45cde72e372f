"""Writes for patients, screenings and staff; the role groups, with what the access policy lets each do."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from courses.models import Contraindication, Patient, RescheduleRequest, Screening, validate_time_zone
from ketaminecare.access.admin_rights import role_permissions
from ketaminecare.errors import InvalidInput, InvalidTransition, RuleViolation
from ketaminecare.roles import Role


def roles_ensure() -> None:
    """Create the role groups and give each exactly the Django permissions the access policy's
    admin table names (ketaminecare.access.admin_rights); idempotent, runs after migrate."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        query = Q(pk__in=[])
        for app_label, codename in role_permissions(role):
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))


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
MSG_REQUEST_OPEN = "The session already has an open reschedule request."
MSG_SESSION_OVER = "Only a session still to come can be asked to move."


def _check_time_zone(time_zone: str) -> None:
    try:
        validate_time_zone(time_zone)
    except ValidationError as exc:
        raise InvalidInput(str(exc.messages[0]), field="time_zone", rule="iana_time_zone") from exc


def patient_update(*, patient_id: int, **changes: Any) -> Patient:
    """Change a patient's details and reminder settings; only the names in PATIENT_EDITABLE."""
    unknown = sorted(set(changes) - set(PATIENT_EDITABLE))
    if unknown:
        raise InvalidInput("This field cannot be changed.", field=unknown[0], rule="not_editable")
    for name in ("first_name", "last_name"):
        if name in changes:
            changes[name] = str(changes[name]).strip()
            if not changes[name]:
                raise InvalidInput("A patient needs a first and a last name.", field=name, rule="required")
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
        raise InvalidInput("This field cannot be changed.", field=unknown[0], rule="not_editable")
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


def reschedule_request_create(*, patient_id: int, session_id: int, message: str = "") -> RescheduleRequest:
    """A patient asks the front desk to move one of their sessions still to come."""
    from sessions.models import TreatmentSession

    with transaction.atomic():
        session = TreatmentSession.objects.select_for_update().filter(pk=session_id, patient_id=patient_id).first()
        if session is None:
            raise InvalidInput("No such session of yours.", field="session", rule="exists")
        if session.status != TreatmentSession.Status.SCHEDULED:
            raise RuleViolation(MSG_SESSION_OVER, field="session", rule="session_not_scheduled")
        if RescheduleRequest.objects.filter(session=session, status=RescheduleRequest.Status.OPEN).exists():
            raise RuleViolation(MSG_REQUEST_OPEN, field="session", rule="reschedule_one_open")
        return RescheduleRequest.objects.create(patient_id=patient_id, session=session, message=message.strip())


def reschedule_request_handle(
    *, request_id: int, outcome: str, actor: Any, now: dt.datetime | None = None
) -> RescheduleRequest:
    """The front desk closes a request: handled (the session was moved or kept) or declined."""
    if outcome not in (RescheduleRequest.Status.HANDLED, RescheduleRequest.Status.DECLINED):
        raise InvalidInput("The outcome is handled or declined.", field="outcome", rule="choice")
    with transaction.atomic():
        request = RescheduleRequest.objects.select_for_update().get(pk=request_id)
        if request.status != RescheduleRequest.Status.OPEN:
            raise InvalidTransition("The request was already closed.", field="status", rule="handle_from_open")
        request.status = outcome
        request.handled_by = actor
        request.handled_at = now or timezone.now()
        request.save(update_fields=["status", "handled_by", "handled_at"])
    return request
