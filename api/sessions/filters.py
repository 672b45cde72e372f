"""Query-parameter filters of the calendar's lists (django-filter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_filters import rest_framework as filters

from clinic.models import Chair, StaffMember, TimeOff, Weekday, WorkingHours
from ketaminecare.api.serializers import BoundedDateFilter, IdFilter, IntFilter, RangeFilterSet, StrictBooleanFilter
from sessions.models import IntegrationAppointment, IntegrationWindow, TreatmentSession
from sessions.selectors import clinic_zone, day_bounds


class SessionFilter(RangeFilterSet):
    patient = IdFilter(field_name="patient_id")
    course = IdFilter(field_name="course_id")
    chair = IdFilter(field_name="chair_id")
    clinician = IdFilter(field_name="clinician_id")
    status = filters.MultipleChoiceFilter(choices=TreatmentSession.Status.choices)
    phase = filters.ChoiceFilter(choices=TreatmentSession.Phase.choices)
    date = BoundedDateFilter(field_name="local_date", help_text="The local day of the session.")
    upcoming = StrictBooleanFilter(method="filter_upcoming", help_text="Only sessions still to come.")

    class Meta:
        model = TreatmentSession
        fields: list[str] = []

    def filter_upcoming(self, queryset: Any, _name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        upcoming = {"ends_at__gt": timezone.now(), "status__in": TreatmentSession.OCCUPYING_STATUSES}
        return queryset.filter(**upcoming) if value else queryset.exclude(**upcoming)


class WindowState:
    OPEN_NOW = "open_now"
    OPENING_SOON = "opening_soon"
    CLOSING_SOON = "closing_soon"
    CLOSED = "closed"
    CHOICES = [
        (OPEN_NOW, "Open now"),
        (OPENING_SOON, "Opening within the next within_hours"),
        (CLOSING_SOON, "Open and closing within the next within_hours"),
        (CLOSED, "Closed"),
    ]


class WindowFilter(RangeFilterSet):
    state = filters.ChoiceFilter(choices=WindowState.CHOICES, method="filter_noop")
    within_hours = IntFilter(
        method="filter_noop",
        min_value=1,
        max_value=336,
        help_text="For opening_soon and closing_soon: hours ahead (1 to 336, default 24).",
    )
    booked = StrictBooleanFilter(field_name="booked", help_text="Whether an appointment is booked in it.")
    therapist = IdFilter(method="filter_therapist", help_text="Booked with this therapist.")
    patient = IdFilter(field_name="patient_id")
    date = BoundedDateFilter(method="filter_date", help_text="Open at some time of this local day.")
    upcoming = StrictBooleanFilter(method="filter_upcoming", help_text="Only windows not yet closed.")

    class Meta:
        model = IntegrationWindow
        fields: list[str] = []

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        state = self.form.cleaned_data.get("state")
        if not state:
            return queryset
        now = timezone.now()
        ahead = now + dt.timedelta(hours=float(self.form.cleaned_data.get("within_hours") or 24))
        if state == WindowState.OPEN_NOW:
            return queryset.filter(opens_at__lte=now, closes_at__gt=now)
        if state == WindowState.OPENING_SOON:
            return queryset.filter(opens_at__gt=now, opens_at__lte=ahead)
        if state == WindowState.CLOSING_SOON:
            return queryset.filter(opens_at__lte=now, closes_at__gt=now, closes_at__lte=ahead)
        return queryset.filter(closes_at__lte=now)

    def filter_range(self, queryset: Any, start: dt.datetime | None, end: dt.datetime | None) -> Any:
        if start is not None:
            queryset = queryset.filter(closes_at__gt=start)
        if end is not None:
            queryset = queryset.filter(opens_at__lt=end)
        return queryset

    def filter_therapist(self, queryset: Any, _name: str, value: Any) -> Any:
        booked = IntegrationAppointment.objects.filter(
            therapist_id=value, status__in=IntegrationAppointment.OCCUPYING_STATUSES
        ).values("window_id")
        return queryset.filter(pk__in=booked)

    def filter_date(self, queryset: Any, _name: str, value: dt.date) -> Any:
        start, end = day_bounds(value, value, clinic_zone())
        return queryset.filter(opens_at__lt=end, closes_at__gt=start)

    def filter_upcoming(self, queryset: Any, _name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.filter(closes_at__gt=now) if value else queryset.filter(closes_at__lte=now)


class AppointmentFilter(RangeFilterSet):
    therapist = IdFilter(field_name="therapist_id")
    patient = IdFilter(field_name="patient_id")
    window = IdFilter(field_name="window_id")
    status = filters.MultipleChoiceFilter(choices=IntegrationAppointment.Status.choices)
    upcoming = StrictBooleanFilter(method="filter_upcoming", help_text="Only booked appointments still to come.")

    class Meta:
        model = IntegrationAppointment
        fields: list[str] = []

    def filter_upcoming(self, queryset: Any, _name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        upcoming = {"ends_at__gt": timezone.now(), "status": IntegrationAppointment.Status.BOOKED}
        return queryset.filter(**upcoming) if value else queryset.exclude(**upcoming)


class WorkingHoursFilter(filters.FilterSet):
    staff = IdFilter(field_name="staff_id")
    weekday = filters.ChoiceFilter(field_name="weekday", choices=Weekday.choices)

    class Meta:
        model = WorkingHours
        fields: list[str] = []


class TimeOffFilter(RangeFilterSet):
    staff = IdFilter(field_name="staff_id")

    class Meta:
        model = TimeOff
        fields: list[str] = []


class ChairFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()

    class Meta:
        model = Chair
        fields: list[str] = []


class StaffFilter(filters.FilterSet):
    role = filters.CharFilter(field_name="role")

    class Meta:
        model = StaffMember
        fields: list[str] = []
