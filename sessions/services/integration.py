"""Integration appointments: a therapist's time with the patient inside a window.

A booking, a move or a cancellation sends ``appointment_changed`` inside its transaction
(sessions.signals): the reminder outbox follows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction

from clinic.models import StaffMember
from ketaminecare.errors import BookingConflict, InvalidInput, InvalidTransition, NotFound, RuleViolation
from ketaminecare.roles import Role
from ketaminecare.rules import Rule
from sessions import signals
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.scheduling import WeeklyHours, within_weekly_hours
from sessions.selectors import clinic_zone
from sessions.services.common import (
    booking_transaction,
    lock_staff_for_booking,
    now_or,
    require_aware,
    retry_on_deadlock,
)

MSG_OUTSIDE_WINDOW = "The appointment must lie inside the integration window."
MSG_WINDOW_GONE = "The integration window was cancelled."
MSG_WINDOW_CLOSED = "The integration window has closed."
MSG_WINDOW_BOOKED = "The window already has an appointment."
MSG_THERAPIST_OFF = "The therapist is not working for the whole appointment."
MSG_THERAPIST_BUSY = "The therapist already has an appointment at that time."

Status = IntegrationAppointment.Status


def _window_problems(
    window: IntegrationWindow, *, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> None:
    """Raise when the window is gone or closed, or [starts_at, ends_at) does not lie inside it."""
    if window.cancelled_at is not None:
        raise RuleViolation(MSG_WINDOW_GONE, rule=Rule.WINDOW_CANCELLED, field="window")
    if window.closes_at <= now:
        raise RuleViolation(MSG_WINDOW_CLOSED, rule=Rule.WINDOW_CLOSED, field="window")
    if starts_at < window.opens_at or ends_at > window.closes_at:
        raise RuleViolation(
            MSG_OUTSIDE_WINDOW,
            rule=Rule.INSIDE_WINDOW,
            field="starts_at",
            details={"opens_at": window.opens_at.isoformat(), "closes_at": window.closes_at.isoformat()},
        )
    if starts_at < now:
        raise InvalidInput("An appointment cannot start in the past.", field="starts_at", rule=Rule.IN_THE_PAST)


def _therapist_problems(
    therapist: StaffMember, *, starts_at: dt.datetime, ends_at: dt.datetime, exclude_appointment_id: int | None
) -> None:
    """Raise when the therapist is not working, is off, or has another appointment then."""
    hours: WeeklyHours = {}
    for weekday, block_start, block_end in therapist.working_hours.values_list("weekday", "starts", "ends"):
        hours.setdefault(weekday, []).append((block_start, block_end))
    off = therapist.time_off.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).exists()
    if off or not within_weekly_hours(hours, starts_at, ends_at, clinic_zone()):
        raise RuleViolation(MSG_THERAPIST_OFF, rule=Rule.THERAPIST_HOURS, field="therapist")
    clashes = IntegrationAppointment.objects.filter(
        therapist=therapist,
        status__in=IntegrationAppointment.OCCUPYING_STATUSES,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude_appointment_id is not None:
        clashes = clashes.exclude(pk=exclude_appointment_id)
    if clashes.exists():
        raise BookingConflict(MSG_THERAPIST_BUSY, rule=Rule.THERAPIST_UNAVAILABLE, field="starts_at")


def appointment_problems(
    *,
    window: IntegrationWindow,
    therapist: StaffMember,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    exclude_appointment_id: int | None = None,
) -> None:
    """Raise for the first rule a booking of ``therapist`` at [starts_at, ends_at) breaks."""
    _window_problems(window, starts_at=starts_at, ends_at=ends_at, now=now)
    if therapist.role != Role.THERAPIST or not therapist.is_active:
        raise InvalidInput("No such active therapist.", field="therapist", rule=Rule.EXISTS)
    others = window.appointments.filter(status__in=IntegrationAppointment.OCCUPYING_STATUSES)
    if exclude_appointment_id is not None:
        others = others.exclude(pk=exclude_appointment_id)
    if others.exists():
        raise BookingConflict(MSG_WINDOW_BOOKED, rule=Rule.WINDOW_ALREADY_BOOKED, field="window")
    _therapist_problems(therapist, starts_at=starts_at, ends_at=ends_at, exclude_appointment_id=exclude_appointment_id)


def patient_busy(patient_id: int, *, starts_at: dt.datetime, ends_at: dt.datetime, exclude_appointment_id: int) -> bool:
    """Whether the patient has a session or another appointment that overlaps [starts_at, ends_at)."""
    sessions = TreatmentSession.objects.filter(
        patient_id=patient_id,
        status__in=TreatmentSession.OCCUPYING_STATUSES,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    appointments = IntegrationAppointment.objects.filter(
        patient_id=patient_id,
        status__in=IntegrationAppointment.OCCUPYING_STATUSES,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    ).exclude(pk=exclude_appointment_id)
    return sessions.exists() or appointments.exists()


def _window_locked(window_id: int) -> IntegrationWindow:
    window = IntegrationWindow.objects.select_for_update().filter(pk=window_id).first()
    if window is None:
        raise NotFound("No such integration window.", field="window", rule=Rule.EXISTS)
    return window


def _therapist(therapist_id: int) -> StaffMember:
    therapist = StaffMember.objects.filter(pk=therapist_id).first()
    if therapist is None:
        raise InvalidInput("No such therapist.", field="therapist", rule=Rule.EXISTS)
    return therapist


@retry_on_deadlock
def window_appointment_book(
    *,
    window_id: int,
    therapist_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> IntegrationAppointment:
    """Book a therapist inside a window. Locks the window (one appointment per window).

    The therapist must be working for the whole appointment and free; the exclusion constraint
    on the therapist's appointments settles a race between two windows.
    """
    now = now_or(now)
    require_aware(starts_at, "starts_at")
    if ends_at is None:
        ends_at = starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=settings.INTEGRATION_APPOINTMENT_MINUTES)
    require_aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise InvalidInput("An appointment ends after it starts.", field="ends_at", rule=Rule.ENDS_AFTER_START)
    with booking_transaction():
        window = _window_locked(window_id)
        lock_staff_for_booking([therapist_id])  # then read them: active, their hours, their time off
        therapist = _therapist(therapist_id)
        appointment_problems(window=window, therapist=therapist, starts_at=starts_at, ends_at=ends_at, now=now)
        appointment = IntegrationAppointment.objects.create(
            window=window,
            patient_id=window.patient_id,
            therapist=therapist,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        signals.appointment_changed.send(
            sender=IntegrationAppointment, appointment_id=appointment.pk, now=now, actor=actor
        )
        return appointment


def _appointment_locked(appointment_id: int) -> IntegrationAppointment:
    window_id = IntegrationAppointment.objects.filter(pk=appointment_id).values_list("window_id", flat=True).first()
    if window_id is None:
        raise NotFound("No such integration appointment.", field="appointment", rule=Rule.EXISTS)
    _window_locked(window_id)
    return IntegrationAppointment.objects.select_for_update().select_related("window").get(pk=appointment_id)


@retry_on_deadlock
def integration_appointment_move(
    *,
    appointment_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    therapist_id: int | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> IntegrationAppointment:
    """Move a booked appointment inside its window (or to another therapist); revision grows."""
    now = now_or(now)
    require_aware(starts_at, "starts_at")
    with booking_transaction():
        appointment = _appointment_locked(appointment_id)
        if appointment.status != Status.BOOKED:
            raise InvalidTransition(
                "Only a booked appointment can be moved.", field="status", rule=Rule.MOVE_FROM_BOOKED
            )
        length = appointment.ends_at - appointment.starts_at
        ends_at = ends_at or starts_at.astimezone(dt.UTC) + length
        require_aware(ends_at, "ends_at")
        if ends_at <= starts_at:
            raise InvalidInput("An appointment ends after it starts.", field="ends_at", rule=Rule.ENDS_AFTER_START)
        therapist_id = therapist_id or appointment.therapist_id
        lock_staff_for_booking([therapist_id])
        therapist = _therapist(therapist_id)
        appointment_problems(
            window=appointment.window,
            therapist=therapist,
            starts_at=starts_at,
            ends_at=ends_at,
            now=now,
            exclude_appointment_id=appointment.pk,
        )
        previous_therapist_id = appointment.therapist_id
        appointment.starts_at, appointment.ends_at, appointment.therapist = starts_at, ends_at, therapist
        appointment.revision += 1
        # A confirmation was of the old time: the patient confirms the new one again.
        appointment.confirmed_at = None
        appointment.save(update_fields=["starts_at", "ends_at", "therapist", "confirmed_at", "revision"])
        signals.appointment_changed.send(
            sender=IntegrationAppointment,
            appointment_id=appointment.pk,
            now=now,
            actor=actor,
            previous_therapist_id=previous_therapist_id,
        )
    return appointment


def integration_appointment_cancel(
    *, appointment_id: int, reason: str = "", actor: Any = None, now: dt.datetime | None = None
) -> IntegrationAppointment:
    now = now_or(now)
    with transaction.atomic():
        appointment = _appointment_locked(appointment_id)
        if appointment.status != Status.BOOKED:
            raise InvalidTransition(
                "Only a booked appointment can be cancelled.", field="status", rule=Rule.CANCEL_FROM_BOOKED
            )
        appointment.status = Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancel_reason = reason
        appointment.revision += 1
        appointment.save(update_fields=["status", "cancelled_at", "cancel_reason", "revision"])
        signals.appointment_changed.send(
            sender=IntegrationAppointment, appointment_id=appointment.pk, now=now, actor=actor
        )
    return appointment


def integration_appointment_record(
    *, appointment_id: int, attended: bool, now: dt.datetime | None = None
) -> IntegrationAppointment:
    """Record whether the patient came to an appointment that has started."""
    now = now_or(now)
    with transaction.atomic():
        appointment = _appointment_locked(appointment_id)
        if appointment.status != Status.BOOKED:
            raise InvalidTransition(
                "The appointment was already recorded.", field="status", rule=Rule.RECORD_FROM_BOOKED
            )
        if appointment.starts_at > now:
            raise InvalidTransition(
                "The appointment has not started yet.", field="status", rule=Rule.RECORD_AFTER_START
            )
        appointment.status = Status.ATTENDED if attended else Status.MISSED
        appointment.save(update_fields=["status"])
    return appointment
