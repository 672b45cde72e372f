"""Reads of protocols."""

from __future__ import annotations

from django.db.models import QuerySet

from courses.models import TreatmentProtocol


def protocols_active() -> QuerySet[TreatmentProtocol]:
    return TreatmentProtocol.objects.filter(is_active=True)
