"""The clinicians' day: who is in which chair now and next."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.models import Chair
from sessions.selectors import clinic_zone, day_bounds, sessions_visible_to
from web.pages import page


@page("web.chairs")
def chairs(request: HttpRequest) -> HttpResponse:
    zone = clinic_zone()
    now = timezone.now()
    today = now.astimezone(zone).date()
    start, end = day_bounds(today, today, zone)
    sessions = sessions_visible_to(request.user).filter(starts_at__gte=start, starts_at__lt=end).order_by("starts_at")
    by_chair: dict[int, list] = {}
    for session in sessions:
        by_chair.setdefault(session.chair_id, []).append(session)
    rows = [{"chair": chair, "sessions": by_chair.get(chair.pk, [])} for chair in Chair.objects.order_by("name")]
    return render(request, "web/chairs.html", {"today": today, "rows": rows, "now": now})
