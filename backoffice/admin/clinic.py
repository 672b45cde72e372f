"""The clinic's admin: chairs, opening hours, closure days, and staff with their working hours and
time off.

A change to someone's time is saved even when it leaves bookings of theirs behind; the page then
lists those bookings to move (the checks are sessions/services/staff_time.py's, as in the API).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from typing_extensions import override

from backoffice.admin.base import PolicyAdmin
from backoffice.admin.shared import clinic_time
from clinic.models import Chair, ClinicHours, ClosureDay, StaffMember, TimeOff, WorkingHours
from sessions.services.staff_bookings import bookings_left_outside, outside_before


@admin.register(Chair)
class ChairAdmin(PolicyAdmin):
    list_display = ("name", "location", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "location")


@admin.register(ClinicHours)
class ClinicHoursAdmin(PolicyAdmin):
    list_display = ("weekday", "opens", "closes")


@admin.register(ClosureDay)
class ClosureDayAdmin(PolicyAdmin):
    list_display = ("date", "reason")
    list_filter = (("date", admin.DateFieldListFilter),)
    date_hierarchy = "date"


class WorkingHoursFormSet(BaseInlineFormSet):
    """The person's weekly blocks as one form: no two of one weekday may overlap (as the API's
    staff-time service refuses, rule working_hours_overlap), counting blocks added elsewhere
    since the page was loaded. The person is locked first (the admin's save runs in one
    transaction), so no block can be added through the API between this check and the save."""

    @override
    def clean(self) -> None:
        super().clean()
        if self.instance.pk is not None:
            StaffMember.objects.select_for_update().filter(pk=self.instance.pk).first()
        in_forms = {form.instance.pk for form in self.forms if form.instance.pk is not None}
        elsewhere = [
            {"weekday": weekday, "starts": starts, "ends": ends}
            for weekday, starts, ends in WorkingHours.objects.filter(staff_id=self.instance.pk)
            .exclude(pk__in=in_forms)
            .values_list("weekday", "starts", "ends")
        ]
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and all(form.cleaned_data.get(name) is not None for name in ("weekday", "starts", "ends"))
        ]
        for index, form in enumerate(kept):
            mine = form.cleaned_data
            others = [*elsewhere, *(other.cleaned_data for other in kept[:index])]
            if any(
                mine["weekday"] == theirs["weekday"]
                and mine["starts"] < theirs["ends"]
                and theirs["starts"] < mine["ends"]
                for theirs in others
            ):
                form.add_error("starts", "The block overlaps another of the same day.")


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


BOOKINGS_BEFORE = "_staff_bookings_outside_before"
BOOKING_ADMIN = {
    "session": "admin:treatment_sessions_treatmentsession_change",
    "appointment": "admin:treatment_sessions_integrationappointment_change",
}


@admin.register(StaffMember)
class StaffMemberAdmin(PolicyAdmin):
    """A person, their weekly hours and their time off.

    A change here is saved even when it leaves bookings of theirs outside their time (someone
    called in sick: the time off must be on record); the page then lists those bookings, linked,
    to move. The person is locked while the change is made, as the API's staff-time services do,
    so no booking of theirs slips in between.
    """

    list_display = ("display_name", "role", "clinician_kind", "phone", "is_active")
    list_filter = ("role", "clinician_kind", "is_active")
    search_fields = ("display_name", "user__username", "user__email")
    raw_id_fields = ("user",)
    inlines = (WorkingHoursInline, TimeOffInline)

    @override
    def save_model(self, request: HttpRequest, obj: StaffMember, form: Any, change: bool) -> None:
        before: set[tuple[str, int]] = set()
        if change:
            stored = StaffMember.objects.select_for_update().get(pk=obj.pk)
            before = outside_before([stored], now=timezone.now())
        setattr(request, BOOKINGS_BEFORE, before)
        super().save_model(request, obj, form, change)

    @override
    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        before: set[tuple[str, int]] = getattr(request, BOOKINGS_BEFORE, set())
        left = bookings_left_outside([form.instance], before=before, now=timezone.now())
        if left:
            links = format_html_join(
                ", ",
                '<a href="{}">{} {}</a>',
                ((reverse(BOOKING_ADMIN[b.kind], args=[b.id]), b.kind, clinic_time(b.starts_at)) for b in left),
            )
            self.message_user(
                request,
                format_html(
                    "{} booking(s) of {} now fall outside their working time or in their time off; move them: {}",
                    len(left),
                    form.instance,
                    links,
                ),
                messages.WARNING,
            )
