"""A patient's confirmation that they will come to a session or a follow-up appointment.

A confirmation is of one time: a move clears it (sessions.services.reschedule, .integration), so
the calendar never shows a confirmation of a time the patient was never told.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ketaminecare.errors import InvalidTransition
from ketaminecare.rules import Rule
from sessions.models import IntegrationAppointment, TreatmentSession

MSG_NOT_TO_COME = "Only a visit still to come can be confirmed."


def session_attendance_confirm(*, session_id: int, now: dt.datetime | None = None) -> TreatmentSession:
    """Record that the patient confirmed the session (the first confirmation's moment is kept)."""
    with transaction.atomic():
        session = TreatmentSession.objects.select_for_update().get(pk=session_id)
        if session.status != TreatmentSession.Status.SCHEDULED:
            raise InvalidTransition(MSG_NOT_TO_COME, field="status", rule=Rule.SESSION_NOT_SCHEDULED)
        if session.confirmed_at is None:
            session.confirmed_at = now or timezone.now()
            session.save(update_fields=["confirmed_at", "updated_at"])
    return session


def appointment_attendance_confirm(*, appointment_id: int, now: dt.datetime | None = None) -> IntegrationAppointment:
    """Record that the patient confirmed the follow-up appointment (the first moment is kept)."""
    with transaction.atomic():
        appointment = IntegrationAppointment.objects.select_for_update().get(pk=appointment_id)
        if appointment.status != IntegrationAppointment.Status.BOOKED:
            raise InvalidTransition(MSG_NOT_TO_COME, field="status", rule=Rule.SESSION_NOT_SCHEDULED)
        if appointment.confirmed_at is None:
            appointment.confirmed_at = now or timezone.now()
            appointment.save(update_fields=["confirmed_at"])
    return appointment
