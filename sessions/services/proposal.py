"""Proposing an induction course: a plan on the clinic as it is, with nothing written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from courses.models import TreatmentProtocol
from ketaminecare.errors import InvalidInput, RuleViolation
from ketaminecare.rules import Rule
from patients.models import Patient, Screening
from sessions.scheduling import Plan, Preferences, Problem, next_feasible_plan, plan_induction
from sessions.selectors import clinic_state_between, clinic_zone
from sessions.services.common import now_or, protocol_rules

MSG_NO_SCREENING = "The patient has no current, eligible screening with consent recorded."
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


def require_active(protocol: TreatmentProtocol) -> None:
    """A retired protocol keeps its courses but starts no new one."""
    if not protocol.is_active:
        raise RuleViolation(MSG_PROTOCOL_RETIRED, rule=Rule.PROTOCOL_ACTIVE, field="protocol")


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
    raise RuleViolation(MSG_NO_SCREENING, rule=Rule.SCREENING_REQUIRED, field="patient")


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
