"""The front desk's pages: the calendar by chair or by clinician, and today's arrivals."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.models import Chair, ClinicHours, StaffMember
from courses.selectors import protocols_active
from ketaminecare.errors import DomainError
from ketaminecare.roles import Role
from patients.models import Patient
from patients.selectors import patients_visible_to
from sessions.models import TreatmentSession
from sessions.selectors import clinic_zone, courses_below_minimum, day_bounds, sessions_visible_to, staff_visible
from sessions.services.staff_bookings import BookingToMove, bookings_outside
from sessions.services.staff_time import time_off_record
from web.pages import audit_shown, page

# How many patients a search offers: enough to pick from, few enough to read.
MAX_PATIENT_MATCHES = 20
# The reason a sick call's time off carries (no more than that: it is not a medical record).
SICK_REASON = "Called in sick"


@page("web.desk")
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """The calendar. The page draws it in the browser and reads and writes through the API (the
    one calendar reader, the booking and reschedule services), signed in by this session."""
    zone = clinic_zone()
    first = _date_param(request, "date") or timezone.now().astimezone(zone).date()
    view = "week" if request.GET.get("view") == "week" else "day"
    context = {
        "clinic_zone": zone.key,
        "first_date": first.isoformat(),
        "view": view,
        "first_events": _first_events_url(first, view, zone),
        "closed_days": _closed_weekdays(),
        "chairs": [{"id": c.pk, "title": c.name} for c in Chair.objects.filter(is_active=True).order_by("name")],
        "clinicians": [
            {"id": m.pk, "title": m.display_name}
            for m in staff_visible().filter(role=Role.CLINICIAN).order_by("display_name")
        ],
        "protocols": protocols_active().order_by("name"),
    }
    return render(request, "web/desk.html", context)


# What the calendar's first view asks of the API (desk.js asks it in the same words).
FIRST_EVENT_TYPES = "session,maintenance_session,closure"


def _first_events_url(first: dt.date, view: str, zone: Any) -> str:
    """The calendar request the page's script makes first, so that the page can ask the browser
    to start it while the scripts still load (a preload the script's own request then uses).
    The range is the view's, from local midnight: a day, or the week from Monday."""
    start_day = first - dt.timedelta(days=first.weekday()) if view == "week" else first
    days = 7 if view == "week" else 1
    start = dt.datetime.combine(start_day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(start_day + dt.timedelta(days=days), dt.time(0), tzinfo=zone)

    def iso(instant: dt.datetime) -> str:  # as the script's toISOString() writes it
        return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    query = urlencode({"start": iso(start), "end": iso(end), "type": FIRST_EVENT_TYPES})
    return f"{reverse('calendar')}?{query}"


def _closed_weekdays() -> str:
    """The weekdays the clinic never opens, as the calendar counts them (0 is Sunday): the week
    view leaves them out. Every day is shown when no opening hours are set at all."""
    open_days = set(ClinicHours.objects.values_list("weekday", flat=True))
    if not open_days:
        return ""
    return ",".join(str((weekday + 1) % 7) for weekday in range(7) if weekday not in open_days)


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


@page("web.desk")
@require_GET
def desk_today(request: HttpRequest) -> HttpResponse:
    """Today's arrivals in time order with their ride home, and every booking to move."""
    zone = clinic_zone()
    now = timezone.now()
    today = now.astimezone(zone).date()
    start, end = day_bounds(today, today, zone)
    arrivals = list(
        sessions_visible_to(request.user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=TreatmentSession.Status.CANCELLED)
        .order_by("starts_at")
    )
    to_move = bookings_outside(StaffMember.objects.all(), now=now)
    short = list(courses_below_minimum(request.user))
    shown = [s.patient_id for s in arrivals] + [b.patient_id for b in to_move] + [c.patient_id for c in short]
    audit_shown(request, shown, verb="desk_today")
    context = {
        "today": today,
        "arrivals": arrivals,
        "to_move": _described(to_move),
        "below_minimum": short,
        "staff": staff_visible().filter(role__in=(Role.CLINICIAN, Role.THERAPIST)).order_by("display_name"),
        "day_ends": end,
    }
    return render(request, "web/desk_today.html", context)


@page("web.desk")
@require_POST
def desk_sick_call(request: HttpRequest) -> HttpResponse:
    """Someone called in sick: their time off from now to the end of the clinic's day, recorded
    whatever it overlaps; what it leaves to rebook shows on the Today page."""
    zone = clinic_zone()
    now = timezone.now()
    _start, day_ends = day_bounds(now.astimezone(zone).date(), now.astimezone(zone).date(), zone)
    try:
        staff_id = int(request.POST.get("staff", ""))
    except ValueError:
        messages.error(request, "Choose who called in sick.")
        return redirect("web:desk-today")
    try:
        change = time_off_record(
            staff_id=staff_id, starts_at=now, ends_at=day_ends, reason=SICK_REASON, accept_conflicts=True, now=now
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("web:desk-today")
    left = len(change.bookings_to_move)
    messages.success(request, f"Recorded as off until the end of today; {left} booking(s) of theirs to move.")
    return redirect("web:desk-today")


def _described(bookings: list[BookingToMove]) -> list[dict[str, Any]]:
    """The bookings with whose they are and who can no longer give them, for the page."""
    patients = Patient.objects.in_bulk({b.patient_id for b in bookings})
    staff = StaffMember.objects.in_bulk({b.staff_id for b in bookings})
    return [
        {"booking": b, "patient": patients.get(b.patient_id), "staff": staff.get(b.staff_id)}
        for b in sorted(bookings, key=lambda b: b.starts_at)
    ]


@page("web.desk")
@require_GET
def desk_patients(request: HttpRequest) -> HttpResponse:
    """The patients whose name matches the search, as the booking form's options (htmx)."""
    words = request.GET.get("q", "").split()[:3]
    patients = patients_visible_to(request.user).order_by("last_name", "first_name")
    for word in words:
        patients = patients.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    found = list(patients[:MAX_PATIENT_MATCHES]) if words else []
    audit_shown(request, [p.pk for p in found], verb="desk_patient_search")
    return render(request, "web/partials/patient_options.html", {"patients": found, "searched": bool(words)})
