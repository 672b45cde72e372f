"""The front desk's admin for patients, screenings, protocols and courses.

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

from audit.hooks import AuditedAdminMixin
from backoffice.admin.base import PolicyAdmin, PolicyAdminMixin
from backoffice.admin.sessions import SessionReadOnlyInline, report_each
from courses.models import Course, TreatmentProtocol
from ketaminecare.errors import DomainError
from patients.models import Contraindication, Patient, Screening
from patients.services import screening_record
from sessions.selectors import course_list_with_progress
from sessions.services.lifecycle import course_cancel

# Cancelling a course cancels its scheduled sessions: whoever may change sessions (the front
# desk, clinicians) or courses (administrators) may do it.
CANCEL_PERMISSIONS = ("courses.change_course", "treatment_sessions.change_treatmentsession")
MSG_REASON_REQUIRED = "Give the reason for the cancellation."


class ScreeningInline(admin.TabularInline):
    model = Screening
    fields = ("performed_on", "outcome", "informed_consent_off_label", "valid_until", "clinician")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(PolicyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("last_name", "first_name", "date_of_birth", "phone", "email", "time_zone")
    search_fields = ("first_name", "last_name", "phone", "email")
    fieldsets = (
        (None, {"fields": ("first_name", "last_name", "date_of_birth", "phone", "email", "time_zone", "user")}),
        (
            "Reminders",
            {
                "fields": (
                    "remind_by_sms",
                    "remind_by_email",
                    "sms_opted_out_at",
                    "email_opted_out_at",
                    "quiet_hours_start",
                    "quiet_hours_end",
                )
            },
        ),
    )
    raw_id_fields = ("user",)
    inlines = (ScreeningInline,)


class ScreeningForm(forms.ModelForm):
    """Records a new screening through ``screening_record``, so that its rules hold here too."""

    contraindications_checked = forms.MultipleChoiceField(
        choices=Contraindication.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    contraindications_found = forms.MultipleChoiceField(
        choices=Contraindication.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    recorded: Screening | None = None

    class Meta:
        model = Screening
        fields = (
            "patient",
            "clinician",
            "performed_on",
            "contraindications_checked",
            "contraindications_found",
            "informed_consent_off_label",
            "outcome",
            "valid_until",
            "notes",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is not None or self.errors:
            return data
        try:
            # The admin's add view runs in one transaction: the row the service writes here is
            # kept with the form's success and rolled back with anything that fails after it.
            self.recorded = screening_record(
                patient=data["patient"],
                clinician=data["clinician"],
                performed_on=data["performed_on"],
                outcome=data["outcome"],
                valid_until=data["valid_until"],
                informed_consent_off_label=bool(data.get("informed_consent_off_label")),
                contraindications_checked=list(data.get("contraindications_checked") or []),
                contraindications_found=list(data.get("contraindications_found") or []),
                notes=data.get("notes", ""),
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(Screening)
class ScreeningAdmin(PolicyAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """A screening is a clinical record: added through the service, never edited afterwards."""

    form = ScreeningForm
    list_display = ("patient", "performed_on", "outcome", "informed_consent_off_label", "valid_until", "clinician")
    list_filter = ("outcome", ("performed_on", admin.DateFieldListFilter))
    search_fields = ("patient__first_name", "patient__last_name")
    list_select_related = ("patient", "clinician")
    autocomplete_fields = ("patient",)
    raw_id_fields = ("clinician",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [*ScreeningForm.Meta.fields, "created_at"]
        return ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable
        recorded = form.recorded
        obj.pk, obj.created_at = recorded.pk, recorded.created_at

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return self.scoped(request, course_list_with_progress())

    @admin.display(description="progress")
    def progress(self, obj: Course) -> str:
        done = getattr(obj, "sessions_done", None)
        if done is None:
            return "-"
        return f"{done} done, {obj.no_shows} no-show, {obj.integration_attended} integration attended"  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
                lambda course: course_cancel(course_id=course.pk, reason=reason),
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
