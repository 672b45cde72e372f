"""The admin of treatment protocols and courses.

A course and its sessions change only through the services (sessions/services/): the admin shows
them read-only and offers actions that call the services, reporting each refusal as a message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from typing_extensions import override

from audit.hooks import AuditedAdminMixin
from backoffice.admin.base import PolicyAdmin, PolicyAdminMixin, ReadOnlyInline
from backoffice.admin.shared import clinic_time, report_each
from courses.models import Course, TreatmentProtocol
from sessions.models import TreatmentSession
from sessions.selectors import course_list_with_progress
from sessions.services.lifecycle import course_cancel

# Cancelling a course cancels its scheduled sessions: whoever may change sessions (the front
# desk, clinicians) or courses (administrators) may do it.
CANCEL_PERMISSIONS = ("courses.change_course", "treatment_sessions.change_treatmentsession")
MSG_REASON_REQUIRED = "Give the reason for the cancellation."


class SessionReadOnlyInline(ReadOnlyInline):
    """A course's sessions, to read: changes go through the session's own page and actions."""

    model = TreatmentSession
    fields = ("sequence", "phase", "starts_in_clinic_zone", "chair", "clinician", "status")
    readonly_fields = fields
    ordering = ("starts_at", "id")

    @override
    def get_queryset(self, request: HttpRequest) -> QuerySet[TreatmentSession]:
        return super().get_queryset(request).select_related("chair", "clinician")

    @admin.display(description="starts (clinic time)", ordering="starts_at")
    def starts_in_clinic_zone(self, obj: TreatmentSession) -> str:
        return clinic_time(obj.starts_at)


@admin.register(TreatmentProtocol)
class TreatmentProtocolAdmin(PolicyAdmin):
    list_display = (
        "name",
        "route",
        "weekly_cadence",
        "min_gap_hours",
        "infusion_minutes",
        "monitoring_minutes",
        "is_active",
    )
    list_filter = ("route", "is_active")
    search_fields = ("name",)


class CancelCourseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


@admin.register(Course)
class CourseAdmin(PolicyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Courses are booked through the planner (the API's preview and confirm); here they are read
    and cancelled."""

    list_display = ("__str__", "patient", "protocol", "status", "progress", "created_at")
    list_filter = ("status", "protocol")
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient", "protocol", "screening")
    readonly_fields = (
        "patient",
        "protocol",
        "screening",
        "status",
        "progress",
        "created_by",
        "created_at",
        "cancelled_at",
        "cancel_reason",
    )
    fields = readonly_fields
    inlines = (SessionReadOnlyInline,)
    actions = ("cancel_courses",)

    @override
    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return self.scoped(request, course_list_with_progress())

    @admin.display(description="progress")
    def progress(self, obj: Course) -> str:
        done = getattr(obj, "sessions_done", None)
        if done is None:
            return "-"
        return f"{done} done, {obj.no_shows} no-show, {obj.integration_attended} integration attended"  # type: ignore[attr-defined]

    @override
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return any(request.user.has_perm(p) for p in CANCEL_PERMISSIONS)

    @admin.action(description="Cancel the selected courses (asks for a reason)", permissions=["cancel"])
    def cancel_courses(self, request: HttpRequest, queryset: QuerySet[Course]) -> HttpResponse | None:
        form = CancelCourseForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            report_each(
                self,
                request,
                list(queryset),
                lambda course: course_cancel(course_id=course.pk, reason=reason, actor=request.user),
                done="cancelled",
            )
            return None
        if form.is_bound:
            self.message_user(request, MSG_REASON_REQUIRED, messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel courses",
            "opts": self.model._meta,
            "courses": queryset,
            "form": form,
            "action": "cancel_courses",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/courses/course/cancel_courses.html", context)
