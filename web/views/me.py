"""The patient's page: their own treatment, and nothing that names a drug or a diagnosis.

Upcoming visits and follow-up appointments on the patient's own clock, with the calendar feed's
neutral titles; confirm a ride home, ask for a change, reminder preferences, a calendar
subscription. Every action goes through the service the API uses, on the patient's own rows only:
another patient's visit answers 404. The page carries the clinic's name, not the product's.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEvent
from calendars.events import INTEGRATION_APPOINTMENT, MAINTENANCE_SESSION, SESSION, TITLES
from calendars.selectors import feeds_manageable_by
from calendars.services import feed_issue, feed_owner_for
from ketaminecare.access.privacy import is_private_safe
from patients.models import Patient
from patients.selectors import patients_visible_to
from patients.services import patient_preferences_update
from sessions.models import TreatmentSession
from sessions.selectors import appointments_upcoming_for, sessions_upcoming_for
from sessions.services.lifecycle import session_ride_home_confirm
from sessions.services.requests import reschedule_request_create
from web.actions import Outcome, attempt, audit_done, from_htmx
from web.pages import audit_shown, page

MSG_VISIT_GONE = (
    "This visit is not on your list any more: it may have been moved or cancelled. Reload the page to see your visits."
)
# What the page calls the clinic when the configured name would say what the treatment is.
NEUTRAL_BRAND = "Your clinic"
# The regions a time zone name starts with: what the time zone field suggests.
ZONE_REGIONS = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")


class ChangeForm(forms.Form):
    message = forms.CharField(label="Message", max_length=1000, required=False)


class PreferencesForm(forms.Form):
    remind_by_sms = forms.BooleanField(label="Text messages", required=False)
    remind_by_email = forms.BooleanField(label="Email", required=False)
    resume_sms = forms.BooleanField(label="Start text messages again", required=False)
    resume_email = forms.BooleanField(label="Start email again", required=False)
    quiet_hours_start = forms.TimeField(label="Quiet from")
    quiet_hours_end = forms.TimeField(label="Quiet until")
    # Checked by the service, as in the API: an IANA name such as America/Chicago.
    time_zone = forms.CharField(label="Time zone", max_length=64)


@cache
def time_zone_names() -> list[str]:
    return sorted(name for name in zoneinfo.available_timezones() if name.startswith(ZONE_REGIONS))


def _patient(request: HttpRequest) -> Patient:
    patient = patients_visible_to(request.user).first()
    if patient is None:
        raise Http404("Your login has no patient record.")
    return patient


def _shown(text: str) -> str:
    """Free text an administrator typed (the clinic's name, a staff member's), left out when it
    holds a word of the privacy vocabulary, as the calendar feeds do."""
    return text if is_private_safe(text) else ""


def _basics(patient: Patient) -> dict[str, Any]:
    """What every part of the page needs: whose clock, and the neutral titles."""
    return {
        "brand": _shown(settings.CLINIC_NAME) or NEUTRAL_BRAND,
        "patient": patient,
        "zone": patient.time_zone,
        "titles": {
            "session": TITLES[SESSION],
            "maintenance": TITLES[MAINTENANCE_SESSION],
            "appointment": TITLES[INTEGRATION_APPOINTMENT],
        },
    }


def _visits_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    now = timezone.now()
    return {
        **_basics(patient),
        "sessions": list(sessions_upcoming_for(request.user, now=now)),
        "appointments": [
            {"appointment": appointment, "with": _shown(appointment.therapist.display_name)}
            for appointment in appointments_upcoming_for(request.user, now=now)
        ],
    }


def _preferences_context(patient: Patient, form: PreferencesForm | None = None) -> dict[str, Any]:
    if form is None:
        form = PreferencesForm(
            initial={
                "remind_by_sms": patient.remind_by_sms,
                "remind_by_email": patient.remind_by_email,
                # As the time inputs send them back, so that a refused form shows what was typed.
                "quiet_hours_start": f"{patient.quiet_hours_start:%H:%M}",
                "quiet_hours_end": f"{patient.quiet_hours_end:%H:%M}",
                "time_zone": patient.time_zone,
            }
        )
    return {"patient": patient, "preferences": form, "zone_names": time_zone_names()}


def _calendar_context(request: HttpRequest) -> dict[str, Any]:
    return {"live_feed": feeds_manageable_by(request.user).filter(revoked_at__isnull=True).first()}


def _back(request: HttpRequest, outcome: Outcome) -> HttpResponse:
    """Without scripts a form posts the whole page: say what happened on it."""
    messages.add_message(request, messages.SUCCESS if outcome.ok else messages.ERROR, outcome.message)
    return HttpResponseRedirect(reverse("web:me"))


@page("web.me")
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    patient = _patient(request)
    context = {
        **_visits_context(request, patient),
        **_preferences_context(patient),
        **_calendar_context(request),
    }
    audit_shown(request, [patient.pk], verb="me")
    return render(request, "web/me.html", context)


def _visit(request: HttpRequest, session_id: int) -> TreatmentSession | None:
    """One of the patient's own visits still to come; None for anyone else's, or one gone."""
    return sessions_upcoming_for(request.user, now=timezone.now()).filter(pk=session_id).first()


def _gone(request: HttpRequest, session_id: int) -> HttpResponse:
    """404, in words where the visit stood: it may have been moved or cancelled since the page was
    drawn. Another patient's visit gets the same answer, which tells nothing about it."""
    if not from_htmx(request):
        raise Http404(MSG_VISIT_GONE)
    context = {"session_id": session_id, "message": MSG_VISIT_GONE}
    return render(request, "web/partials/me_visit_gone.html", context, status=404)


def _answer_visit(request: HttpRequest, patient: Patient, session_id: int, outcome: Outcome | None) -> HttpResponse:
    if outcome is not None and not from_htmx(request):
        return _back(request, outcome)
    session = _visit(request, session_id)
    if session is None:
        return _gone(request, session_id)
    context = {
        **_basics(patient),
        "session": session,
        "outcome": outcome,
        "outcome_session": session.pk,
    }
    status = outcome.status if outcome is not None else 200
    return render(request, "web/partials/me_visit.html", context, status=status)


@page("web.me")
@require_http_methods(["GET", "POST"])
def me_ride_home(request: HttpRequest, session_id: int) -> HttpResponse:
    patient = _patient(request)
    session = _visit(request, session_id)
    if session is None:
        return _gone(request, session_id)
    if request.method == "GET":
        return _answer_visit(request, patient, session.pk, None)

    def confirm(_: dict[str, Any]) -> str:
        audit_done(request, session_ride_home_confirm(session_id=session.pk, confirmed=True), verb="me_ride_home")
        return f"Your ride home for {_when(session, patient)} is confirmed. Thank you."

    return _answer_visit(request, patient, session.pk, attempt(forms.Form(request.POST), confirm))


@page("web.me")
@require_http_methods(["GET", "POST"])
def me_change(request: HttpRequest, session_id: int) -> HttpResponse:
    patient = _patient(request)
    session = _visit(request, session_id)
    if session is None:
        return _gone(request, session_id)
    if request.method == "GET":
        return _answer_visit(request, patient, session.pk, None)

    def ask(data: dict[str, Any]) -> str:
        asked = reschedule_request_create(patient_id=patient.pk, session_id=session.pk, message=data["message"])
        audit_done(request, asked, verb="me_change", action=AuditEvent.Action.CREATE)
        return f"You asked to change your visit on {_when(session, patient)}. The front desk will contact you."

    return _answer_visit(request, patient, session.pk, attempt(ChangeForm(request.POST), ask))


def _when(session: TreatmentSession, patient: Patient) -> str:
    local = timezone.localtime(session.starts_at, patient.zone)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


@page("web.me")
@require_http_methods(["GET", "POST"])
def me_preferences(request: HttpRequest) -> HttpResponse:
    patient = _patient(request)
    if request.method == "GET":
        context = {**_basics(patient), **_preferences_context(patient)}
        return render(request, "web/partials/me_preferences.html", context)
    form = PreferencesForm(request.POST)

    def save(data: dict[str, Any]) -> str:
        # Ticking "start again" clears an opt-out (a STOP); leaving it alone keeps it.
        updated = patient_preferences_update(
            patient_id=patient.pk,
            sms_opted_out=False if data.pop("resume_sms") else None,
            email_opted_out=False if data.pop("resume_email") else None,
            **data,
        )
        audit_done(request, updated, verb="me_preferences", action=AuditEvent.Action.UPDATE)
        return "Your reminder settings are saved."

    outcome = attempt(form, save)
    if not from_htmx(request):
        return _back(request, outcome)
    patient.refresh_from_db()
    context = {
        **_visits_context(request, patient),
        **_preferences_context(patient, None if outcome.ok else form),
        "outcome": outcome,
    }
    return render(request, "web/partials/me_preferences.html", context, status=outcome.status)


@page("web.me")
@require_http_methods(["GET", "POST"])
def me_calendar(request: HttpRequest) -> HttpResponse:
    """Subscribe a calendar application: a new feed, its secret URL shown this once (only its hash
    is kept). A new one replaces the old, whose URL stops working."""
    patient = _patient(request)
    context = {**_basics(patient), **_calendar_context(request)}
    if request.method == "GET":
        return render(request, "web/partials/me_calendar.html", context)
    issued: dict[str, str] = {}

    def subscribe(_: dict[str, Any]) -> str:
        feed = feed_issue(owner=feed_owner_for(actor=request.user))
        audit_done(request, feed.feed, verb="me_calendar", action=AuditEvent.Action.CREATE)
        issued["url"] = request.build_absolute_uri(reverse("calendar-feed-ics", kwargs={"token": feed.token}))
        return "Your calendar address is ready below. Copy it now: it will not be shown again."

    outcome = attempt(forms.Form(request.POST), subscribe)
    if not from_htmx(request) and not outcome.ok:
        return _back(request, outcome)
    context = {
        **_basics(patient),
        **_calendar_context(request),
        "outcome": outcome,
        "feed_url": issued.get("url"),
        "webcal_url": issued["url"].replace("https://", "webcal://").replace("http://", "webcal://")
        if issued
        else None,
    }
    if not from_htmx(request):
        # Shown once, so a plain form post gets the page itself rather than a redirect that loses it.
        messages.add_message(request, messages.SUCCESS, outcome.message)
        context = {**_visits_context(request, patient), **_preferences_context(patient), **context}
        return render(request, "web/me.html", {**context, "outcome": None})
    return render(request, "web/partials/me_calendar.html", context, status=outcome.status)
