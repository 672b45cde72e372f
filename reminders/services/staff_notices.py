"""The change notices to staff: a therapist whose appointment someone else moved or cancelled,
and the front desk when a patient asks to move a session. Written like the patient's notices
(reminders.services.notices): in the change's transaction, one live notice per subject and
recipient, replaced by the next change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from clinic.models import StaffMember
from ketaminecare.roles import Role
from reminders.models import Channel, Reminder, ReminderKind
from reminders.services.notice_rows import REASON_REPLACED, live_notices, replace_notices
from sessions.models import IntegrationAppointment, RescheduleRequest

Kind = ReminderKind

REASON_ACTOR = "The recipient made the later change."

# Staff are told by email: it carries a patient reference, which a phone's lock screen would show.
STAFF_CHANNEL = Channel.EMAIL


def therapist_notice(
    appointment: IntegrationAppointment,
    change: str,
    *,
    actor: Any,
    now: dt.datetime,
    therapist: StaffMember | None = None,
) -> None:
    """Tell the therapist of a move or a cancellation they did not make (one live notice, the latest).

    ``therapist`` is the appointment's own, or the one a move took it from (told as of a
    cancellation: the time is no longer theirs)."""
    therapist = therapist or appointment.therapist
    live = live_notices((Kind.APPOINTMENT_CHANGED_BY_OTHER,), appointment=appointment, staff=therapist)
    by_themselves = actor is not None and getattr(actor, "pk", None) == therapist.user_id
    new = []
    if change != Kind.APPOINTMENT_BOOKED and not by_themselves and therapist.is_active:
        new.append(
            Reminder(
                kind=Kind.APPOINTMENT_CHANGED_BY_OTHER,
                channel=STAFF_CHANNEL,
                staff=therapist,
                appointment=appointment,
                anchor_at=appointment.starts_at,
                subject_revision=appointment.revision,
                planned_at=now,
                due_at=now,
            )
        )
    replace_notices(
        cancelled=list(live.values()), reason=REASON_ACTOR if by_themselves else REASON_REPLACED, new=new, now=now
    )


def notices_reschedule_requested(request_id: int, *, now: dt.datetime) -> None:
    """A patient asked to move a session: every active member of the front desk is told, by email.
    The notice is withdrawn at send time if the request was handled or declined meanwhile."""
    session = RescheduleRequest.objects.select_related("session").get(pk=request_id).session
    front_desk = list(StaffMember.objects.filter(role=Role.FRONT_DESK, is_active=True))
    live = list(
        Reminder.objects.select_for_update(of=("self",)).filter(
            kind=Kind.REQUEST_NEEDS_HANDLING, session=session, status__in=Reminder.LIVE_STATUSES
        )
    )
    new = [
        Reminder(
            kind=Kind.REQUEST_NEEDS_HANDLING,
            channel=STAFF_CHANNEL,
            staff=member,
            session=session,
            anchor_at=session.starts_at,
            subject_revision=session.revision,
            planned_at=now,
            due_at=now,
        )
        for member in front_desk
    ]
    replace_notices(cancelled=live, reason=REASON_REPLACED, new=new, now=now)
