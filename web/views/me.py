"""The patient's page: their own treatment, and nothing that names a drug or a diagnosis."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from patients.selectors import patients_visible_to
from sessions.models import IntegrationAppointment, TreatmentSession
from sessions.selectors import appointments_visible_to, sessions_visible_to
from web.pages import page


@page("web.me")
def me(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    sessions = (
        sessions_visible_to(request.user)
        .filter(ends_at__gt=now, status=TreatmentSession.Status.SCHEDULED)
        .order_by("starts_at")
    )
    appointments = (
        appointments_visible_to(request.user)
        .filter(ends_at__gt=now, status=IntegrationAppointment.Status.BOOKED)
        .order_by("starts_at")
    )
    patient = patients_visible_to(request.user).first()
    zone = patient.time_zone if patient else settings.TIME_ZONE
    context = {"patient": patient, "zone": zone, "sessions": sessions, "appointments": appointments}
    return render(request, "web/me.html", context)
