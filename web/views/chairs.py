"""The clinicians' day: who is in which chair now and next; check in, complete, hold.

Each chair is a card. An action posts one session's form (htmx), calls the session's service and
answers the chair's card again, with the status line saying what happened or which rule refused.
Without scripts the same forms post and come back to the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from clinic.models import Chair
from clinic.selectors import chairs_active
from sessions.models import TreatmentSession
from sessions.selectors import chair_day_sessions, clinic_zone, sessions_visible_to
from sessions.services.lifecycle import session_check_in, session_complete, session_hold
from web.actions import Outcome, attempt, audit_done, from_htmx
from web.pages import audit_shown, page

Status = TreatmentSession.Status
# Sessions done with for the day: listed under the chair, with no action left.
FINISHED = (Status.COMPLETED, Status.HELD, Status.NO_SHOW)


class CheckInForm(forms.Form):
    ride_home_confirmed = forms.BooleanField(label="Ride home confirmed", required=False)


class CompleteForm(forms.Form):
    dose_mg = forms.DecimalField(
        label="Dose (mg)", max_digits=6, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    clinical_notes = forms.CharField(label="Note", max_length=5000, required=False)


class HoldForm(forms.Form):
    # Not required here: the service refuses a blank reason, in the words the API uses too.
    reason = forms.CharField(label="Reason", max_length=1000, required=False)


@dataclass
class ChairCard:
    """One chair's day: the session in it now (checked in, or due by the clock), the ones still to
    come, and those finished."""

    chair: Chair
    now: TreatmentSession | None = None
    next: list[TreatmentSession] = field(default_factory=list)
    finished: list[TreatmentSession] = field(default_factory=list)


def chair_cards(chairs: list[Chair], sessions: list[TreatmentSession], *, at: dt.datetime) -> list[ChairCard]:
    cards = {chair.pk: ChairCard(chair) for chair in chairs}
    for session in sessions:
        card = cards.get(session.chair_id)
        if card is None:
            continue
        if session.status in FINISHED:
            card.finished.append(session)
        elif session.status == Status.CHECKED_IN and (card.now is None or card.now.status != Status.CHECKED_IN):
            if card.now is not None:
                card.next.insert(0, card.now)
            card.now = session
        elif card.now is None and session.status == Status.SCHEDULED and session.starts_at <= at < session.ends_at:
            card.now = session
        else:
            card.next.append(session)
    for card in cards.values():
        card.next.sort(key=lambda s: (s.starts_at, s.pk))
    return list(cards.values())


def _day(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.now().astimezone(clinic_zone()).date()


@page("web.chairs")
@require_GET
def chairs(request: HttpRequest) -> HttpResponse:
    day = _day(request)
    sessions = list(chair_day_sessions(request.user, day=day))
    audit_shown(request, [s.patient_id for s in sessions], verb="chairs")
    context = {
        "day": day,
        "today": timezone.now().astimezone(clinic_zone()).date(),
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "cards": chair_cards(list(chairs_active()), sessions, at=timezone.now()),
    }
    return render(request, "web/chairs.html", context)


def _session(request: HttpRequest, session_id: int) -> TreatmentSession:
    return get_object_or_404(sessions_visible_to(request.user), pk=session_id)


def _answer(request: HttpRequest, session: TreatmentSession, outcome: Outcome | None = None) -> HttpResponse:
    """The session's chair card as it is now (htmx), or back to the page with the outcome's words."""
    if outcome is not None and not from_htmx(request):
        messages.add_message(request, messages.SUCCESS if outcome.ok else messages.ERROR, outcome.message)
        return HttpResponseRedirect(f"{reverse('web:chairs')}?date={session.local_date.isoformat()}")
    sessions = list(chair_day_sessions(request.user, day=session.local_date).filter(chair_id=session.chair_id))
    card = chair_cards([session.chair], sessions, at=timezone.now())[0]
    audit_shown(request, [s.patient_id for s in sessions], verb="chairs_card")
    context = {"card": card, "outcome": outcome, "outcome_session": session.pk}
    return render(
        request, "web/partials/chair_card.html", context, status=outcome.status if outcome is not None else 200
    )


def _name(session: TreatmentSession) -> str:
    return f"{session.patient.first_name} {session.patient.last_name}"


@page("web.chairs")
@require_http_methods(["GET", "POST"])
def chair_check_in(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    if request.method == "GET":
        return _answer(request, session)

    def check_in(data: dict[str, Any]) -> str:
        done = session_check_in(session_id=session.pk, ride_home_confirmed=data["ride_home_confirmed"])
        audit_done(request, done, verb="chairs_check_in")
        ride = "ride home confirmed" if done.ride_home_confirmed else "no ride home confirmed yet"
        return f"{_name(session)} is checked in ({ride})."

    return _answer(request, session, attempt(CheckInForm(request.POST), check_in))


@page("web.chairs")
@require_http_methods(["GET", "POST"])
def chair_complete(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    if request.method == "GET":
        return _answer(request, session)

    def complete(data: dict[str, Any]) -> str:
        done = session_complete(session_id=session.pk, dose_mg=data["dose_mg"], clinical_notes=data["clinical_notes"])
        audit_done(request, done, verb="chairs_complete")
        return f"{_name(session)}'s session is completed."

    return _answer(request, session, attempt(CompleteForm(request.POST), complete))


@page("web.chairs")
@require_http_methods(["GET", "POST"])
def chair_hold(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    if request.method == "GET":
        return _answer(request, session)

    def hold(data: dict[str, Any]) -> str:
        done = session_hold(session_id=session.pk, reason=data["reason"], actor=request.user)
        audit_done(request, done, verb="chairs_hold")
        return f"{_name(session)}'s session is held: {data['reason'].strip()}"

    return _answer(request, session, attempt(HoldForm(request.POST), hold))
