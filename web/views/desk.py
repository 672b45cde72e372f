"""The front desk's pages: the calendar by chair or by clinician, and today's arrivals."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.models import Chair
from courses.selectors import protocols_active
from ketaminecare.roles import Role
from patients.selectors import patients_visible_to
from sessions.models import TreatmentSession
from sessions.selectors import clinic_zone, day_bounds, sessions_visible_to, staff_visible
from web.pages import page

# How many patients a search offers: enough to pick from, few enough to read.
MAX_PATIENT_MATCHES = 20


@page("web.desk")
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """The calendar. The page draws it in the browser and reads and writes through the API (the
    one calendar reader, the booking and reschedule services), signed in by this session."""
    zone = clinic_zone()
    first = _date_param(request, "date") or timezone.now().astimezone(zone).date()
    context = {
        "clinic_zone": zone.key,
        "first_date": first.isoformat(),
        "chairs": [{"id": c.pk, "title": c.name} for c in Chair.objects.filter(is_active=True).order_by("name")],
        "clinicians": [
            {"id": m.pk, "title": m.display_name}
            for m in staff_visible().filter(role=Role.CLINICIAN).order_by("display_name")
        ],
        "protocols": protocols_active().order_by("name"),
    }
    return render(request, "web/desk.html", context)


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


@page("web.desk")
@require_GET
def desk_today(request: HttpRequest) -> HttpResponse:
    zone = clinic_zone()
    today = timezone.now().astimezone(zone).date()
    start, end = day_bounds(today, today, zone)
    arrivals = (
        sessions_visible_to(request.user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=TreatmentSession.Status.CANCELLED)
        .order_by("starts_at")
    )
    return render(request, "web/desk_today.html", {"today": today, "arrivals": arrivals})


@page("web.desk")
@require_GET
def desk_patients(request: HttpRequest) -> HttpResponse:
    """The patients whose name matches the search, as the booking form's options (htmx)."""
    words = request.GET.get("q", "").split()[:3]
    patients = patients_visible_to(request.user).order_by("last_name", "first_name")
    for word in words:
        patients = patients.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    found = list(patients[:MAX_PATIENT_MATCHES]) if words else []
    return render(request, "web/partials/patient_options.html", {"patients": found, "searched": bool(words)})
