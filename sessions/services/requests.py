"""A patient's request to move a session, and the front desk's answer to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaminecare.errors import InvalidInput, InvalidTransition, RuleViolation
from ketaminecare.rules import Rule
from sessions import signals
from sessions.models import RescheduleRequest, TreatmentSession

MSG_REQUEST_OPEN = "The session already has an open reschedule request."


MSG_SESSION_OVER = "Only a session still to come can be asked to move."


def reschedule_request_create(
    *, patient_id: int, session_id: int, message: str = "", now: dt.datetime | None = None
) -> RescheduleRequest:
    """A patient asks the front desk to move one of their sessions still to come.

    Sends ``reschedule_requested`` inside the transaction (the front desk's notice is written with it).
    """
    now = now or timezone.now()
    with transaction.atomic():
        session = TreatmentSession.objects.select_for_update().filter(pk=session_id, patient_id=patient_id).first()
        if session is None:
            raise InvalidInput("No such session of yours.", field="session", rule=Rule.EXISTS)
        if session.status != TreatmentSession.Status.SCHEDULED:
            raise RuleViolation(MSG_SESSION_OVER, field="session", rule=Rule.SESSION_NOT_SCHEDULED)
        if RescheduleRequest.objects.filter(session=session, status=RescheduleRequest.Status.OPEN).exists():
            raise RuleViolation(MSG_REQUEST_OPEN, field="session", rule=Rule.RESCHEDULE_ONE_OPEN)
        request = RescheduleRequest.objects.create(patient_id=patient_id, session=session, message=message.strip())
        signals.reschedule_requested.send(sender=RescheduleRequest, request_id=request.pk, now=now)
        return request


def reschedule_request_handle(
    *, request_id: int, outcome: str, actor: Any, now: dt.datetime | None = None
) -> RescheduleRequest:
    """The front desk closes a request: handled (the session was moved or kept) or declined."""
    if outcome not in (RescheduleRequest.Status.HANDLED, RescheduleRequest.Status.DECLINED):
        raise InvalidInput("The outcome is handled or declined.", field="outcome", rule=Rule.CHOICE)
    with transaction.atomic():
        request = RescheduleRequest.objects.select_for_update().get(pk=request_id)
        if request.status != RescheduleRequest.Status.OPEN:
            raise InvalidTransition("The request was already closed.", field="status", rule=Rule.HANDLE_FROM_OPEN)
        request.status = outcome
        request.handled_by = actor
        request.handled_at = now or timezone.now()
        request.save(update_fields=["status", "handled_by", "handled_at"])
    return request
