"""The admin of the calendar: chairs, hours, staff, sessions, windows and appointments.

Nothing here writes a session, a window or an appointment itself. A session's times, chair,
clinician and status are read-only; the actions and the reschedule page call the services in
sessions/services/, and each refusal (a DomainError) comes back as a message on the page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.hooks import AuditedAdminMixin
from backoffice.admin.base import PolicyAdmin, ServicesOnlyAdmin, ViewOnlyAdmin
from clinic.models import Chair, ClinicHours, ClosureDay, StaffMember, TimeOff, WorkingHours
from ketaminecare.errors import DomainError
from ketaminecare.roles import Role
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.scheduling import local_instant
from sessions.selectors import clinic_zone
from sessions.services.booking import session_reschedule
from sessions.services.integration import integration_appointment_cancel, integration_appointment_record
from sessions.services.lifecycle import (
    session_cancel,
    session_check_in,
    session_no_show,
    session_ride_home_confirm,
)
from sessions.services.staff_time import bookings_left_outside, outside_before

MSG_NONEXISTENT_TIME = "That time does not exist in the clinic's zone on that day (the clocks jump forward)."

# What a session's change page shows, none of it editable: changes go through the services.
SESSION_FIELDS = (
    "course",
    "patient",
    "sequence",
    "phase",
    "starts_in_clinic_zone",
    "ends_in_clinic_zone",
    "chair",
    "clinician",
    "status",
    "hold_reason",
    "ride_home_confirmed",
    "checked_in_at",
    "completed_at",
    "cancelled_at",
    "dose_mg",
    "clinical_notes",
    "revision",
    "created_at",
    "updated_at",
)


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


class SessionReadOnlyInline(admin.TabularInline):
    """A course's sessions, to read: changes go through the session's own page and actions."""

    model = TreatmentSession
    fields = ("sequence", "phase", "starts_in_clinic_zone", "chair", "clinician", "status")
    readonly_fields = fields
    ordering = ("starts_at", "id")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[TreatmentSession]:
        return super().get_queryset(request).select_related("chair", "clinician")

    @admin.display(description="starts (clinic time)", ordering="starts_at")
    def starts_in_clinic_zone(self, obj: TreatmentSession) -> str:
        return clinic_time(obj.starts_at)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RescheduleForm(forms.Form):
    """A new start on the clinic's wall clock; the chair and clinician stay unless chosen."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}))
    chair = forms.ModelChoiceField(queryset=Chair.objects.filter(is_active=True), required=False)
    clinician = forms.ModelChoiceField(
        queryset=StaffMember.objects.filter(is_active=True, role=Role.CLINICIAN), required=False
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only to set a course rule aside (minimum gap, one a day, span); clinicians and "
        "administrators only. Taken time is never overridden.",
    )

    def starts_at(self) -> dt.datetime:
        starts = local_instant(self.cleaned_data["date"], self.cleaned_data["time"], clinic_zone())
        if starts is None:
            raise forms.ValidationError(MSG_NONEXISTENT_TIME)
        return starts


@admin.register(TreatmentSession)
class TreatmentSessionAdmin(AuditedAdminMixin, ServicesOnlyAdmin):
    list_display = (
        "starts_in_clinic_zone",
        "patient",
        "course_link",
        "sequence",
        "phase",
        "chair",
        "clinician",
        "status",
        "ride_home_confirmed",
    )
    list_filter = (
        ("starts_at", admin.DateFieldListFilter),
        "chair",
        ("clinician", admin.RelatedOnlyFieldListFilter),
        "status",
        "phase",
    )
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient", "course__protocol", "chair", "clinician")
    date_hierarchy = "starts_at"
    ordering = ("starts_at", "id")
    fields = SESSION_FIELDS
    readonly_fields = SESSION_FIELDS
    actions = ("cancel_sessions", "mark_no_show", "check_in", "confirm_ride_home")

    @admin.display(description="starts (clinic time)", ordering="starts_at")
    def starts_in_clinic_zone(self, obj: TreatmentSession) -> str:
        return clinic_time(obj.starts_at)

    @admin.display(description="ends (clinic time)", ordering="ends_at")
    def ends_in_clinic_zone(self, obj: TreatmentSession) -> str:
        return clinic_time(obj.ends_at)

    @admin.display(description="course", ordering="course")
    def course_link(self, obj: TreatmentSession) -> str:
        url = reverse("admin:courses_course_change", args=[obj.course_id])
        return format_html('<a href="{}">{}</a>', url, obj.course.protocol.name)

    # Actions: each calls one service per session and reports each refusal.

    @admin.action(description="Cancel the selected sessions (their windows go too)", permissions=["change"])
    def cancel_sessions(self, request: HttpRequest, queryset: QuerySet[TreatmentSession]) -> None:
        report_each(
            self,
            request,
            queryset,
            lambda s: session_cancel(session_id=s.pk, reason="Cancelled at the front desk."),
            done="cancelled",
        )

    @admin.action(description="Mark the selected sessions as no-shows", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[TreatmentSession]) -> None:
        report_each(self, request, queryset, lambda s: session_no_show(session_id=s.pk), done="marked as no-shows")

    @admin.action(description="Check in the selected sessions", permissions=["change"])
    def check_in(self, request: HttpRequest, queryset: QuerySet[TreatmentSession]) -> None:
        report_each(self, request, queryset, lambda s: session_check_in(session_id=s.pk), done="checked in")

    @admin.action(description="Confirm the ride home for the selected sessions", permissions=["change"])
    def confirm_ride_home(self, request: HttpRequest, queryset: QuerySet[TreatmentSession]) -> None:
        report_each(
            self,
            request,
            queryset,
            lambda s: session_ride_home_confirm(session_id=s.pk, confirmed=True),
            done="with their ride home confirmed",
        )

    # The reschedule page.

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/reschedule/",
                self.admin_site.admin_view(self.reschedule_view),
                name="{}_{}_reschedule".format(*info),
            ),
            *super().get_urls(),
        ]

    def reschedule_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        # The rows the user may see only (the access policy's scope): any other id is a 404.
        session = get_object_or_404(
            self.get_queryset(request).select_related("patient", "chair", "clinician", "course__protocol"),
            pk=object_id,
        )
        local_start = timezone.localtime(session.starts_at, clinic_zone())
        form = RescheduleForm(
            request.POST or None,
            initial={"date": local_start.date(), "time": local_start.time().replace(second=0, microsecond=0)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                starts_at = form.starts_at()
                result = session_reschedule(
                    session_id=session.pk,
                    starts_at=starts_at,
                    chair_id=form.cleaned_data["chair"].pk if form.cleaned_data["chair"] else None,
                    clinician_id=form.cleaned_data["clinician"].pk if form.cleaned_data["clinician"] else None,
                    actor=request.user,
                    override_reason=form.cleaned_data["override_reason"].strip() or None,
                )
            except forms.ValidationError as exc:
                form.add_error(None, exc)
            except DomainError as exc:
                problems = exc.details.get("problems") or []
                form.add_error(None, exc.message)
                for problem in problems[1:]:
                    form.add_error(None, f"{problem['message']} ({problem['date']})")
            else:
                moved = result.session
                self._record(request, "action", [moved], verb="reschedule", object_id=moved.pk)
                note = f"Moved to {clinic_time(moved.starts_at)} in {moved.chair} with {moved.clinician}."
                if result.overrides:
                    note += " Rules set aside: " + ", ".join(o.rule for o in result.overrides) + "."
                if result.cancelled_appointments:
                    count = len(result.cancelled_appointments)
                    note += f" {count} integration appointment(s) no longer fit the window and were cancelled."
                self.message_user(request, note, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[session.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reschedule {session}",
            "opts": self.opts,
            "original": session,
            "session": session,
            "starts": clinic_time(session.starts_at),
            "form": form,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/treatment_sessions/treatmentsession/reschedule.html", context)


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

    def save_model(self, request: HttpRequest, obj: StaffMember, form: Any, change: bool) -> None:
        before: set[tuple[str, int]] = set()
        if change:
            stored = StaffMember.objects.select_for_update().get(pk=obj.pk)
            before = outside_before([stored], now=timezone.now())
        setattr(request, BOOKINGS_BEFORE, before)
        super().save_model(request, obj, form, change)

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


class AppointmentReadOnlyInline(admin.TabularInline):
    model = IntegrationAppointment
    fields = ("therapist", "starts_in_clinic_zone", "status")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="starts (clinic time)")
    def starts_in_clinic_zone(self, obj: IntegrationAppointment) -> str:
        return clinic_time(obj.starts_at)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WindowStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("cancelled", "Cancelled")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "active":
            return queryset.filter(cancelled_at__isnull=True)
        if self.value() == "cancelled":
            return queryset.filter(cancelled_at__isnull=False)
        return queryset


@admin.register(IntegrationWindow)
class IntegrationWindowAdmin(AuditedAdminMixin, ViewOnlyAdmin):
    """Windows follow their sessions (the services move and cancel them): read-only here."""

    list_display = ("patient", "session", "opens_in_clinic_zone", "closes_in_clinic_zone", "cancelled_at")
    list_filter = (WindowStateFilter, ("opens_at", admin.DateFieldListFilter))
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient", "session")
    date_hierarchy = "opens_at"
    inlines = (AppointmentReadOnlyInline,)

    @admin.display(description="opens (clinic time)", ordering="opens_at")
    def opens_in_clinic_zone(self, obj: IntegrationWindow) -> str:
        return clinic_time(obj.opens_at)

    @admin.display(description="closes (clinic time)", ordering="closes_at")
    def closes_in_clinic_zone(self, obj: IntegrationWindow) -> str:
        return clinic_time(obj.closes_at)


@admin.register(IntegrationAppointment)
class IntegrationAppointmentAdmin(AuditedAdminMixin, ServicesOnlyAdmin):
    """Appointments are booked in a window by the service (the API); here they are read, cancelled
    and recorded."""

    list_display = ("patient", "therapist", "starts_in_clinic_zone", "status")
    list_filter = ("status", ("therapist", admin.RelatedOnlyFieldListFilter), ("starts_at", admin.DateFieldListFilter))
    search_fields = ("patient__first_name", "patient__last_name", "therapist__display_name")
    list_select_related = ("patient", "therapist")
    date_hierarchy = "starts_at"
    readonly_fields = (
        "window",
        "patient",
        "therapist",
        "starts_at",
        "ends_at",
        "status",
        "cancelled_at",
        "cancel_reason",
        "revision",
        "created_by",
        "created_at",
    )
    fields = readonly_fields
    actions = ("cancel_appointments", "record_attended", "record_missed")

    @admin.display(description="starts (clinic time)", ordering="starts_at")
    def starts_in_clinic_zone(self, obj: IntegrationAppointment) -> str:
        return clinic_time(obj.starts_at)

    @admin.action(description="Cancel the selected appointments", permissions=["change"])
    def cancel_appointments(self, request: HttpRequest, queryset: QuerySet[IntegrationAppointment]) -> None:
        report_each(
            self,
            request,
            queryset,
            lambda a: integration_appointment_cancel(appointment_id=a.pk, reason="Cancelled at the front desk."),
            done="cancelled",
        )

    @admin.action(description="Record: the patient attended", permissions=["change"])
    def record_attended(self, request: HttpRequest, queryset: QuerySet[IntegrationAppointment]) -> None:
        report_each(
            self,
            request,
            queryset,
            lambda a: integration_appointment_record(appointment_id=a.pk, attended=True),
            done="recorded as attended",
        )

    @admin.action(description="Record: the patient did not come", permissions=["change"])
    def record_missed(self, request: HttpRequest, queryset: QuerySet[IntegrationAppointment]) -> None:
        report_each(
            self,
            request,
            queryset,
            lambda a: integration_appointment_record(appointment_id=a.pk, attended=False),
            done="recorded as missed",
        )


@admin.register(RuleOverride)
class RuleOverrideAdmin(ViewOnlyAdmin):
    """The record of course rules set aside: kept for review, never edited."""

    list_display = ("session", "rule", "authorised_by", "created_at")
    list_filter = ("rule", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("session", "authorised_by")
    readonly_fields = ("session", "rule", "reason", "authorised_by", "created_at")
    fields = readonly_fields
