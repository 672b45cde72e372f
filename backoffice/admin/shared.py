"""What the admin pages share: instants on the clinic's wall clock, and one report per action."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from ketaminecare.errors import DomainError
from sessions.selectors import clinic_zone


def clinic_time(value: dt.datetime | None) -> str:
    """An instant on the clinic's wall clock, with the zone's abbreviation (EST, EDT)."""
    if value is None:
        return "-"
    return timezone.localtime(value, clinic_zone()).strftime("%Y-%m-%d %H:%M %Z")


def report_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[Any],
    service: Callable[[Any], Any],
    *,
    done: str,
) -> int:
    """Call ``service`` for each object; one success message, and one error message per refusal."""
    succeeded = 0
    for obj in objects:
        try:
            service(obj)
        except DomainError as exc:
            model_admin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        noun = model_admin.model._meta.verbose_name if succeeded == 1 else model_admin.model._meta.verbose_name_plural
        model_admin.message_user(request, f"{succeeded} {noun} {done}.", messages.SUCCESS)
    return succeeded
