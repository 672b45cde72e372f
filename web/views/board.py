"""The therapists' window board: the integration windows that need them, and their own week."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sessions.models import IntegrationAppointment
from sessions.selectors import appointments_visible_to, windows_visible_to
from web.pages import page


@page("web.board")
def board(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    windows = windows_visible_to(request.user).filter(closes_at__gt=now).order_by("closes_at")
    appointments = (
        appointments_visible_to(request.user)
        .filter(ends_at__gt=now, status=IntegrationAppointment.Status.BOOKED)
        .order_by("starts_at")
    )
    return render(request, "web/board.html", {"now": now, "windows": windows, "appointments": appointments})
