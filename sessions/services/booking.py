"""Booking: propose and book an induction course, reschedule a session, book maintenance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Max

from clinic.models import Chair, StaffMember
from courses.models import Course, TreatmentProtocol
from ketaminecare.errors import BookingConflict, InvalidInput, NotFound, RuleViolation
from patients.models import Patient, Screening
from reminders.services.changes import reminders_course_booked, reminders_session_changed
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.scheduling import (
    NonexistentLocalTime,
    Plan,
    Preferences,
    Problem,
    Rule,
    SeriesTooLong,
    course_rule_problems,
    next_feasible_plan,
    plan_induction,
    rrule_parts,
    rule_is_bounded,
    slot_problems,
    wall_clock_series,
    window_bounds,
)
from sessions.selectors import clinic_state_between, clinic_zone
from sessions.services.common import (
    booking_transaction,
    check_override,
    lock_staff_for_booking,
    now_or,
    problems_error,
    protocol_rules,
    raise_slot_problems,
    require_aware,
    retry_on_deadlock,
)

MAX_SERIES = 52  # maintenance sessions booked in one series
MSG_SERIES_SIZE = f"A series has 1 to {MAX_SERIES} sessions."

# Course rules the database itself states, which an authorised override cannot set aside.
NOT_OVERRIDABLE = frozenset({Rule.ONE_PER_DAY})

MSG_NO_SCREENING = "The patient has no current, eligible screening with consent recorded."
MSG_ACTIVE_COURSE = "The patient already follows an active course."
MSG_NOT_SCHEDULED = "Only a scheduled session can be moved."
MSG_PROTOCOL_RETIRED = "The protocol is retired: no new course starts on it."
MSG_PAST_FIRST_DATE = "The first date is in the past."


@dataclass(frozen=True)
class SessionRequest:
    """One session of a confirmed proposal: when, where, with whom."""

    starts_at: dt.datetime
    chair_id: int
    clinician_id: int


@dataclass
class CourseProposal:
    """A planned course that nothing has been written for yet."""

    patient_id: int
    protocol_id: int
    plan: Plan
    next_feasible: Plan | None = None

    @property
    def feasible(self) -> bool:
        return self.plan.feasible

    def session_requests(self) -> list[SessionRequest]:
        return [SessionRequest(s.starts_at, s.chair_id, s.clinician_id) for s in self.plan.sessions]


@dataclass
class RescheduleResult:
    session: TreatmentSession
    overrides: list[RuleOverride] = field(default_factory=list)
    cancelled_appointments: list[IntegrationAppointment] = field(default_factory=list)


def require_active(protocol: TreatmentProtocol) -> None:
    """A retired protocol keeps its courses but starts no new one."""
    if not protocol.is_active:
        raise RuleViolation(MSG_PROTOCOL_RETIRED, rule="protocol_active", field="protocol")


def current_screening(patient: Patient, *, on: dt.date, today: dt.date) -> Screening:
    """The patient's latest screening that is eligible, consented and valid on both dates."""
    for screening in Screening.objects.filter(
        patient=patient,
        outcome=Screening.Outcome.ELIGIBLE,
        informed_consent_off_label=True,
        performed_on__lte=today,
        valid_until__gte=max(on, today),
    ).order_by("-performed_on", "-id")[:1]:
        return screening
    raise RuleViolation(MSG_NO_SCREENING, rule="screening_required", field="patient")


def course_propose(
    *,
    patient: Patient,
    protocol: TreatmentProtocol,
    first_date: dt.date,
    preferences: Preferences | None = None,
    now: dt.datetime | None = None,
) -> CourseProposal:
    """Plan an induction course from ``first_date``. Writes nothing.

    Loads the clinic for the course's own weeks (a fixed number of indexed range queries,
    whatever the size of the clinic) and plans in memory. When the first date does not work, it
    loads the whole search horizon once more and the proposal carries the reasons and the next
    feasible plan within PLANNING_SEARCH_DAYS.
    """
    now = now_or(now)
    prefs = preferences or Preferences()
    zone = clinic_zone()
    if first_date < now.astimezone(zone).date():
        raise InvalidInput(MSG_PAST_FIRST_DATE, field="first_date", rule=Rule.IN_THE_PAST)
    current_screening(patient, on=first_date, today=now.astimezone(zone).date())
    require_active(protocol)
    rules = protocol_rules(protocol)
    # Loading the clinic is most of the cost of a plan (rows to read), so the first date's plan
    # reads only the weeks it can touch: the cadence's, plus one per extra session a preferred
    # count may add. clinic_state_between adds the days the last windows reach into.
    weeks = max(len(rules.weekly_cadence), 1) + (prefs.session_count or 0)
    state = clinic_state_between(first=first_date, last=first_date + dt.timedelta(days=7 * weeks), now=now)
    plan = plan_induction(state=state, rules=rules, prefs=prefs, first_date=first_date, patient_id=patient.pk)
    proposal = CourseProposal(patient_id=patient.pk, protocol_id=protocol.pk, plan=plan)
    if not plan.feasible:
        search_days = settings.PLANNING_SEARCH_DAYS
        horizon = first_date + dt.timedelta(days=search_days + 7 * max(len(rules.weekly_cadence), 1) + 7)
        state = clinic_state_between(first=first_date, last=horizon, now=now)
        proposal.next_feasible = next_feasible_plan(
            state=state,
            rules=rules,
            prefs=prefs,
            after=first_date,
            patient_id=patient.pk,
            search_days=search_days,
        )
    return proposal


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
    catch what a concurrent booking slipped in after the checks (BookingConflict).
    """
    now = now_or(now)
    if not sessions:
        raise InvalidInput("A course needs at least one session.", field="sessions", rule="sessions_required")
    for index, request in enumerate(sessions):
        require_aware(request.starts_at, f"sessions[{index}].starts_at")
    zone = clinic_zone()
    require_active(protocol)
    rules = protocol_rules(protocol)
    ordered = sorted(sessions, key=lambda r: r.starts_at)
    problems = course_rule_problems([r.starts_at for r in ordered], rules, zone)
    if problems:
        raise problems_error(problems, conflict=False, field="sessions")
    first_day = ordered[0].starts_at.astimezone(zone).date()
    last_day = ordered[-1].starts_at.astimezone(zone).date()

    with booking_transaction():
        Patient.objects.select_for_update().get(pk=patient.pk)
        screening = current_screening(patient, on=first_day, today=now.astimezone(zone).date())
        if Course.objects.filter(patient=patient, status__in=Course.ACTIVE_STATUSES).exists():
            raise RuleViolation(MSG_ACTIVE_COURSE, rule="one_active_course", field="patient")
        lock_staff_for_booking(r.clinician_id for r in ordered)
        state = clinic_state_between(first=first_day, last=last_day, now=now)
        for index, request in enumerate(ordered):
            end = request.starts_at.astimezone(dt.UTC) + rules.session_length
            raise_slot_problems(
                slot_problems(
                    state,
                    start=request.starts_at,
                    end=end,
                    chair_id=request.chair_id,
                    clinician_id=request.clinician_id,
                    patient_id=patient.pk,
                ),
                field=f"sessions[{index}]",
            )
        course = Course.objects.create(
            patient=patient, protocol=protocol, screening=screening, created_by=_user_or_none(actor)
        )
        for sequence, request in enumerate(ordered, start=1):
            _session_create(
                course=course,
                sequence=sequence,
                phase=TreatmentSession.Phase.INDUCTION,
                starts_at=request.starts_at,
                chair_id=request.chair_id,
                clinician_id=request.clinician_id,
                protocol=protocol,
            )
        # The reminders, in the same transaction (an outbox): nothing is sent before commit.
        reminders_course_booked(course, now=now)
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


def proposal_error(proposal: CourseProposal) -> RuleViolation:
    """The refusal for an infeasible proposal: the rule, the date, and the next feasible date."""
    first: Problem = proposal.plan.problems[0]
    next_date = proposal.next_feasible.first_date.isoformat() if proposal.next_feasible else None
    return RuleViolation(
        first.message,
        rule=first.rule,
        field="first_date",
        details={
            "problems": [p.as_dict() for p in proposal.plan.problems],
            "next_feasible_first_date": next_date,
        },
    )


def _session_create(
    *,
    course: Course,
    sequence: int,
    phase: str,
    starts_at: dt.datetime,
    chair_id: int,
    clinician_id: int,
    protocol: TreatmentProtocol,
) -> TreatmentSession:
    # Elapsed time: a timedelta added to a zoned wall-clock datetime is off by an hour across DST.
    ends_at = starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=protocol.session_minutes)
    session = TreatmentSession.objects.create(
        course=course,
        patient_id=course.patient_id,
        sequence=sequence,
        phase=phase,
        chair_id=chair_id,
        clinician_id=clinician_id,
        starts_at=starts_at,
        ends_at=ends_at,
        local_date=starts_at.astimezone(clinic_zone()).date(),
    )
    opens_at, closes_at = window_bounds(ends_at, protocol.window_opens_after_hours, protocol.window_closes_after_hours)
    IntegrationWindow.objects.create(
        session=session, patient_id=course.patient_id, opens_at=opens_at, closes_at=closes_at
    )
    return session


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _new_problems(before: list[Problem], after: list[Problem]) -> list[Problem]:
    """The problems a change introduces: count and span by rule, the others by rule and day."""
    whole_course = {Rule.SESSION_COUNT, Rule.INDUCTION_SPAN}
    seen = {(p.rule, None if p.rule in whole_course else p.date) for p in before}
    return [p for p in after if (p.rule, None if p.rule in whole_course else p.date) not in seen]


@retry_on_deadlock
def session_reschedule(
    *,
    session_id: int,
    starts_at: dt.datetime,
    chair_id: int | None = None,
    clinician_id: int | None = None,
    actor: Any = None,
    override_reason: str | None = None,
    now: dt.datetime | None = None,
) -> RescheduleResult:
    """Move one scheduled session; its window follows and its revision grows.

    Locks the course row (all changes to one course's sessions serialise) and the session.
    Taken time is always refused. A course rule the move would break (gap, one a day, span) is
    refused with the rule named, unless ``override_reason`` is given by an actor holding the
    override permission; each rule set aside is then recorded as a RuleOverride. Integration
    appointments that no longer fall inside the moved window are cancelled and returned.
    """
    now = now_or(now)
    require_aware(starts_at, "starts_at")
    zone = clinic_zone()
    with booking_transaction():
        session = _locked_session(session_id)
        if session.status != TreatmentSession.Status.SCHEDULED:
            raise RuleViolation(MSG_NOT_SCHEDULED, rule="session_not_scheduled", field="status")
        protocol = session.course.protocol
        rules = protocol_rules(protocol)
        chair_id = chair_id or session.chair_id
        clinician_id = clinician_id or session.clinician_id
        _require_resources(chair_id, clinician_id)
        lock_staff_for_booking([clinician_id])
        ends_at = starts_at.astimezone(dt.UTC) + rules.session_length
        day = starts_at.astimezone(zone).date()
        state = clinic_state_between(first=day, last=day, exclude_session_ids=[session.pk], now=now)
        raise_slot_problems(
            slot_problems(
                state,
                start=starts_at,
                end=ends_at,
                chair_id=chair_id,
                clinician_id=clinician_id,
                patient_id=session.patient_id,
            ),
            field="starts_at",
        )
        siblings = list(
            TreatmentSession.objects.filter(
                course_id=session.course_id,
                phase=session.phase,
                status__in=TreatmentSession.OCCUPYING_STATUSES,
            )
            .exclude(pk=session.pk)
            .values_list("starts_at", flat=True)
        )
        induction = session.phase == TreatmentSession.Phase.INDUCTION
        before = course_rule_problems([*siblings, session.starts_at], rules, zone, induction=induction)
        after = course_rule_problems([*siblings, starts_at], rules, zone, induction=induction)
        broken = _new_problems(before, after)
        overrides: list[RuleOverride] = []
        if broken:
            # "One session a day" is also a database constraint: no override can set it aside,
            # so it is refused as it stands rather than offered and then failing at the insert.
            fixed = [p for p in broken if p.rule in NOT_OVERRIDABLE]
            if override_reason is None or fixed:
                raise problems_error(fixed or broken, conflict=False, field="starts_at")
            check_override(actor, override_reason)

        session.starts_at = starts_at
        session.ends_at = ends_at
        session.local_date = day
        session.chair_id = chair_id
        session.clinician_id = clinician_id
        session.revision += 1
        session.save(
            update_fields=[
                "starts_at",
                "ends_at",
                "local_date",
                "chair",
                "clinician",
                "revision",
                "updated_at",
            ]
        )
        for problem in broken:
            overrides.append(
                RuleOverride.objects.create(
                    session=session, rule=problem.rule, reason=override_reason or "", authorised_by=actor
                )
            )
        cancelled = _window_follow(session, protocol, now)
        reminders_session_changed(session.pk, now=now)
    return RescheduleResult(session=session, overrides=overrides, cancelled_appointments=cancelled)


def _locked_session(session_id: int) -> TreatmentSession:
    """The session, with its course locked first (the order every service takes the two locks)."""
    course_id = TreatmentSession.objects.filter(pk=session_id).values_list("course_id", flat=True).first()
    if course_id is None:
        raise NotFound("No such session.", field="session", rule="exists")
    Course.objects.select_for_update().get(pk=course_id)
    return TreatmentSession.objects.select_for_update().select_related("course__protocol").get(pk=session_id)


def _require_resources(chair_id: int, clinician_id: int) -> None:
    if not Chair.objects.filter(pk=chair_id, is_active=True).exists():
        raise InvalidInput("No such active chair.", field="chair", rule="exists")
    if not StaffMember.objects.filter(pk=clinician_id, is_active=True, role="clinician").exists():
        raise InvalidInput("No such active clinician.", field="clinician", rule="exists")


def _window_follow(
    session: TreatmentSession, protocol: TreatmentProtocol, now: dt.datetime
) -> list[IntegrationAppointment]:
    """Move the session's window with it; cancel appointments the new window no longer holds."""
    opens_at, closes_at = window_bounds(
        session.ends_at, protocol.window_opens_after_hours, protocol.window_closes_after_hours
    )
    window = IntegrationWindow.objects.select_for_update().get(session=session)
    window.opens_at, window.closes_at = opens_at, closes_at
    window.revision += 1
    window.save(update_fields=["opens_at", "closes_at", "revision"])
    outside = list(
        window.appointments.filter(status=IntegrationAppointment.Status.BOOKED).exclude(
            starts_at__gte=opens_at, ends_at__lte=closes_at
        )
    )
    for appointment in outside:
        appointment.status = IntegrationAppointment.Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancel_reason = "The session moved; the appointment no longer fits its window."
        appointment.revision += 1
        appointment.save(update_fields=["status", "cancelled_at", "cancel_reason", "revision"])
    return outside


@retry_on_deadlock
def maintenance_series_book(
    *,
    course_id: int,
    first_starts_at: dt.datetime,
    chair_id: int,
    clinician_id: int,
    interval_days: int | None = None,
    rule: str | None = None,
    count: int | None = None,
    until: dt.date | None = None,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> list[TreatmentSession]:
    """Book maintenance sessions as rows, one per occurrence of a wall-clock recurrence.

    The series is computed on local wall time in the clinic's zone (09:00 stays 09:00 across
    daylight-saving changes) from ``interval_days`` (the protocol's default when neither it nor
    ``rule`` is given) or an RRULE body. Each occurrence is checked like any session; the whole
    series is booked or nothing. The course moves to maintenance.
    """
    now = now_or(now)
    require_aware(first_starts_at, "first_starts_at")
    if rule:
        try:
            rrule_parts(rule)
        except ValueError as exc:
            raise InvalidInput(f"The recurrence: {exc}.", field="rule", rule="recurrence_invalid") from exc
    if count is None and until is None and not rule_is_bounded(rule):
        raise InvalidInput(
            "A series needs a count or an end date (or a COUNT or UNTIL in its rule).",
            field="count",
            rule="series_bounded",
        )
    if count is not None and not 1 <= count <= MAX_SERIES:
        raise InvalidInput(MSG_SERIES_SIZE, field="count", rule="series_bounded")
    if rule_is_bounded(rule) and (count is not None or until is not None):
        raise InvalidInput(
            "The rule has its own COUNT or UNTIL: give no count or until besides.",
            field="rule",
            rule="series_bounded",
        )
    zone = clinic_zone()
    with booking_transaction():
        course = Course.objects.select_for_update().select_related("protocol").filter(pk=course_id).first()
        if course is None:
            raise NotFound("No such course.", field="course", rule="exists")
        if course.status not in (Course.Status.PLANNED, Course.Status.INDUCTION, Course.Status.MAINTENANCE):
            raise RuleViolation("The course is not active.", rule="course_not_active", field="course")
        protocol = course.protocol
        _require_resources(chair_id, clinician_id)
        lock_staff_for_booking([clinician_id])
        try:
            starts = wall_clock_series(
                first=first_starts_at,
                zone=zone,
                interval_days=interval_days or (None if rule else protocol.maintenance_interval_days),
                rule=rule,
                count=count,
                until=until,
                limit=MAX_SERIES,
            )
        except NonexistentLocalTime as exc:
            raise RuleViolation(str(exc), rule=Rule.NONEXISTENT_LOCAL_TIME, field="first_starts_at") from exc
        except SeriesTooLong as exc:  # an until date, or the rule's own COUNT or UNTIL, too far
            raise InvalidInput(MSG_SERIES_SIZE, field="until" if until else "rule", rule="series_bounded") from exc
        except ValueError as exc:
            raise InvalidInput(f"The recurrence: {exc}.", field="rule", rule="recurrence_invalid") from exc
        if not starts:
            raise InvalidInput("The series has no occurrence.", field="rule", rule="series_bounded")
        rules = protocol_rules(protocol)
        state = clinic_state_between(
            first=starts[0].astimezone(zone).date(), last=starts[-1].astimezone(zone).date(), now=now
        )
        problems: list[Problem] = []
        for start in starts:
            problems += slot_problems(
                state,
                start=start,
                end=start.astimezone(dt.UTC) + rules.session_length,
                chair_id=chair_id,
                clinician_id=clinician_id,
                patient_id=course.patient_id,
            )
        # Taken time first, as a reschedule does: the patient's own session at that time is a
        # conflict, not also the "one a day" rule that the same session trips.
        raise_slot_problems(problems, field="first_starts_at")
        existing = list(
            course.sessions.filter(status__in=TreatmentSession.OCCUPYING_STATUSES).values_list("starts_at", flat=True)
        )
        course_problems = course_rule_problems([*existing, *starts], rules, zone, induction=False)
        if course_problems:
            raise problems_error(course_problems, conflict=False, field="first_starts_at")
        last_sequence = course.sessions.aggregate(last=Max("sequence"))["last"] or 0
        booked = [
            _session_create(
                course=course,
                sequence=last_sequence + index,
                phase=TreatmentSession.Phase.MAINTENANCE,
                starts_at=start,
                chair_id=chair_id,
                clinician_id=clinician_id,
                protocol=protocol,
            )
            for index, start in enumerate(starts, start=1)
        ]
        if course.status != Course.Status.MAINTENANCE:
            course.status = Course.Status.MAINTENANCE
            course.save(update_fields=["status"])
        reminders_course_booked(course, now=now)
    return booked


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
        if exc.rule in ("screening_required", "one_active_course"):
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


__all__ = [
    "BookingConflict",
    "CourseProposal",
    "RescheduleResult",
    "SessionRequest",
    "course_book",
    "course_book_confirmed",
    "course_plan_and_book",
    "course_propose",
    "maintenance_series_book",
    "proposal_error",
    "session_reschedule",
]
