"""The admin of treatment sessions, integration windows and appointments, and rule overrides.

Nothing here writes a session, a window or an appointment itself. A session's times, chair,
clinician and status are read-only; the actions and the reschedule page call the services in
sessions/services/, and each refusal (a DomainError) comes back as a message on the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from typing_extensions import override

from audit.hooks import AuditedAdminMixin
from backoffice.admin.base import ReadOnlyInline, ServicesOnlyAdmin, ViewOnlyAdmin
from backoffice.admin.reschedule import RescheduleForm, rescheduled_note
from backoffice.admin.shared import clinic_time, report_each
from sessions.models import IntegrationAppointment, IntegrationWindow, RuleOverride, TreatmentSession
from sessions.services.integration import integration_appointment_cancel, integration_appointment_record
from sessions.services.lifecycle import (
    session_cancel,
    session_check_in,
    session_no_show,
    session_ride_home_confirm,
)

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
            lambda s: session_cancel(session_id=s.pk, reason="Cancelled at the front desk.", actor=request.user),
            done="cancelled",
        )

    @admin.action(description="Mark the selected sessions as no-shows", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[TreatmentSession]) -> None:
        report_each(
            self,
            request,
            queryset,
            lambda s: session_no_show(session_id=s.pk, actor=request.user),
            done="marked as no-shows",
        )

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

    @override
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
        form = RescheduleForm(request.POST or None, initial=RescheduleForm.initial_for(session))
        if request.method == "POST" and form.is_valid():
            result = form.reschedule(session, actor=request.user)
            if result is not None:
                self._record(request, "action", [result.session], verb="reschedule", object_id=result.session.pk)
                self.message_user(request, rescheduled_note(result), messages.SUCCESS)
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


class AppointmentReadOnlyInline(ReadOnlyInline):
    model = IntegrationAppointment
    fields = ("therapist", "starts_in_clinic_zone", "status")
    readonly_fields = fields

    @admin.display(description="starts (clinic time)")
    def starts_in_clinic_zone(self, obj: IntegrationAppointment) -> str:
        return clinic_time(obj.starts_at)


class WindowStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    @override
    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("cancelled", "Cancelled")]

    @override
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
            lambda a: integration_appointment_cancel(
                appointment_id=a.pk, reason="Cancelled at the front desk.", actor=request.user
            ),
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
