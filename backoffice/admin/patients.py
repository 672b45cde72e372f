"""The admin of patients and their screenings.

A screening is a clinical record: it is added through the service (``screening_record``), so that
its rules hold here as in the API, and never edited afterwards.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from typing_extensions import override

from audit.hooks import AuditedAdminMixin
from backoffice.admin.base import PolicyAdminMixin
from ketaminecare.errors import DomainError
from patients.models import Contraindication, Patient, Screening
from patients.services import screening_record


class ScreeningInline(admin.TabularInline):
    model = Screening
    fields = ("performed_on", "outcome", "informed_consent_off_label", "valid_until", "clinician")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @override
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

    @override
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

    @override
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [*ScreeningForm.Meta.fields, "created_at"]
        return ()

    @override
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable
        recorded = form.recorded
        obj.pk, obj.created_at = recorded.pk, recorded.created_at

    @override
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
