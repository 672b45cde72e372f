"""Booking an induction course: the course, every session and every window, or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from courses.models import Course, TreatmentProtocol
from ketaminecare.errors import BookingConflict, InvalidInput, RuleViolation
from ketaminecare.rules import Rule
from patients.models import Patient
from sessions import signals
from sessions.models import TreatmentSession
from sessions.scheduling import ClinicState, CourseRules, Preferences, course_rule_problems, slot_problems
from sessions.selectors import clinic_state_between, clinic_zone
from sessions.services.common import (
    booking_transaction,
    lock_staff_for_booking,
    now_or,
    problems_error,
    protocol_rules,
    raise_slot_problems,
    require_aware,
    retry_on_deadlock,
)
from sessions.services.proposal import (
    SessionRequest,
    course_propose,
    current_screening,
    proposal_error,
    require_active,
)
from sessions.services.rows import NewSession, sessions_create, user_or_none

MSG_ACTIVE_COURSE = "The patient already follows an active course."

# Refusals that no other first date can cure: the booking's refusal names no next date.
NOT_A_MATTER_OF_DATE = frozenset({Rule.SCREENING_REQUIRED, Rule.ONE_ACTIVE_COURSE})


def _requests_in_order(sessions: Sequence[SessionRequest]) -> list[SessionRequest]:
    """The requested sessions in order of time, once each has an aware start."""
    if not sessions:
        raise InvalidInput("A course needs at least one session.", field="sessions", rule=Rule.SESSIONS_REQUIRED)
    for index, request in enumerate(sessions):
        require_aware(request.starts_at, f"sessions[{index}].starts_at")
    return sorted(sessions, key=lambda r: r.starts_at)


def _slots_check(state: ClinicState, ordered: Sequence[SessionRequest], *, rules: CourseRules, patient_id: int) -> None:
    """Raise for the first requested session whose time, chair or clinician is not to be had."""
    for index, request in enumerate(ordered):
        end = request.starts_at.astimezone(dt.UTC) + rules.session_length
        raise_slot_problems(
            slot_problems(
                state,
                start=request.starts_at,
                end=end,
                chair_id=request.chair_id,
                clinician_id=request.clinician_id,
                patient_id=patient_id,
            ),
            field=f"sessions[{index}]",
        )


@retry_on_deadlock
def course_book(
    *,
    patient: Patient,
    protocol: TreatmentProtocol,
    sessions: Sequence[SessionRequest],
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Course:
    """Book a whole induction course: the course, every session and every window, or nothing.

    Locks the patient row so two bookings for one patient serialise. Every rule is checked
    against the clinic as it is inside the transaction; the exclusion and unique constraints
    catch what a concurrent booking slipped in after the checks (BookingConflict). Sends
    ``course_booked`` inside the transaction (the reminder outbox writes its rows with it).
    """
    now = now_or(now)
    ordered = _requests_in_order(sessions)
    zone = clinic_zone()
    require_active(protocol)
    rules = protocol_rules(protocol)
    problems = course_rule_problems([r.starts_at for r in ordered], rules, zone)
    if problems:
        raise problems_error(problems, conflict=False, field="sessions")
    first_day = ordered[0].starts_at.astimezone(zone).date()
    last_day = ordered[-1].starts_at.astimezone(zone).date()

    with booking_transaction():
        Patient.objects.select_for_update().get(pk=patient.pk)
        screening = current_screening(patient, on=first_day, today=now.astimezone(zone).date())
        if Course.objects.filter(patient=patient, status__in=Course.ACTIVE_STATUSES).exists():
            raise RuleViolation(MSG_ACTIVE_COURSE, rule=Rule.ONE_ACTIVE_COURSE, field="patient")
        lock_staff_for_booking(r.clinician_id for r in ordered)
        state = clinic_state_between(first=first_day, last=last_day, now=now)
        _slots_check(state, ordered, rules=rules, patient_id=patient.pk)
        course = Course.objects.create(
            patient=patient, protocol=protocol, screening=screening, created_by=user_or_none(actor)
        )
        sessions_create(
            course=course,
            first_sequence=1,
            phase=TreatmentSession.Phase.INDUCTION,
            sessions=[NewSession(r.starts_at, r.chair_id, r.clinician_id) for r in ordered],
            protocol=protocol,
        )
        # The reminders, in the same transaction (an outbox): nothing is sent before commit.
        signals.course_booked.send(sender=Course, course=course, now=now, actor=actor)
    return course


def course_plan_and_book(
    *,
    patient: Patient,
    protocol: TreatmentProtocol,
    first_date: dt.date,
    preferences: Preferences | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Course:
    """Propose and book in one call; refuses with the plan's first problem and the next date."""
    proposal = course_propose(
        patient=patient, protocol=protocol, first_date=first_date, preferences=preferences, now=now
    )
    if not proposal.feasible:
        raise proposal_error(proposal)
    return course_book(patient=patient, protocol=protocol, sessions=proposal.session_requests(), actor=actor, now=now)


def course_book_confirmed(
    *,
    patient: Patient,
    protocol: TreatmentProtocol,
    sessions: Sequence[SessionRequest],
    preferences: Preferences | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Course:
    """Book a confirmed proposal; a refusal (409) also names the next feasible first date.

    The proposal may have gone stale since it was shown (another booking took a chair): the
    refusal then tells the front desk where the course would fit now, planned from the first
    requested day (or today, if that has passed). The booking itself rolled back whole.
    """
    try:
        return course_book(patient=patient, protocol=protocol, sessions=sessions, actor=actor, now=now)
    except (RuleViolation, BookingConflict) as exc:
        if exc.rule in NOT_A_MATTER_OF_DATE:
            raise
        now = now_or(now)
        zone = clinic_zone()
        today = now.astimezone(zone).date()
        first = min(r.starts_at for r in sessions).astimezone(zone).date() if sessions else today
        try:
            proposal = course_propose(
                patient=patient, protocol=protocol, first_date=max(first, today), preferences=preferences, now=now
            )
        except (InvalidInput, RuleViolation):
            raise exc from None
        plan = proposal.plan if proposal.feasible else proposal.next_feasible
        exc.details["next_feasible_first_date"] = plan.first_date.isoformat() if plan else None
        raise
