"""The end of an integration window's life: closed once its time is over, with whether the
integration took place."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from sessions.models import IntegrationAppointment, IntegrationWindow
from sessions.selectors import live_windows


def windows_close_due(*, now: dt.datetime) -> int:
    """Record each window that has closed, and whether its integration took place: True when an
    appointment in it was attended, None while one is booked but not recorded, else False."""
    closed = 0
    while True:
        with transaction.atomic():
            ids = list(
                IntegrationWindow.objects.select_for_update(skip_locked=True)
                .filter(live_windows(), closes_at__lte=now)
                .order_by("closes_at", "id")
                .values_list("id", flat=True)[:500]
            )
            if not ids:
                return closed
            statuses = dict.fromkeys(ids, "none")
            for window_id, status in IntegrationAppointment.objects.filter(
                window_id__in=ids,
                status__in=[IntegrationAppointment.Status.ATTENDED, IntegrationAppointment.Status.BOOKED],
            ).values_list("window_id", "status"):
                if statuses[window_id] != IntegrationAppointment.Status.ATTENDED:
                    statuses[window_id] = status
            took_place = {"attended": True, "booked": None, "none": False}
            for outcome, value in took_place.items():
                group = [i for i, s in statuses.items() if s == outcome]
                if group:
                    IntegrationWindow.objects.filter(pk__in=group, closed_at__isnull=True).update(
                        closed_at=now, opened_at=Coalesce(F("opened_at"), F("opens_at")), integration_took_place=value
                    )
            closed += len(ids)
