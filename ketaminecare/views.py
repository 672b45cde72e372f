"""The site's front page: where to go from here (the web app's sign-in page replaces it)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"clinic_name": settings.CLINIC_NAME})
