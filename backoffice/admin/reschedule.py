"""A session's reschedule page in the admin: a new start on the clinic's wall clock, moved by the
service (``session_reschedule``); a refusal comes back as the form's errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from backoffice.admin.shared import clinic_time
from clinic.models import Chair, StaffMember
from ketaminecare.errors import DomainError
from ketaminecare.roles import Role
from sessions.models import TreatmentSession
from sessions.scheduling import local_instant
from sessions.selectors import clinic_zone
from sessions.services.reschedule import RescheduleResult, session_reschedule

MSG_NONEXISTENT_TIME = "That time does not exist in the clinic's zone on that day (the clocks jump forward)."


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

    @staticmethod
    def initial_for(session: TreatmentSession) -> dict[str, Any]:
        """The session's present start, on the clinic's wall clock to the minute."""
        local_start = timezone.localtime(session.starts_at, clinic_zone())
        return {"date": local_start.date(), "time": local_start.time().replace(second=0, microsecond=0)}

    def starts_at(self) -> dt.datetime:
        starts = local_instant(self.cleaned_data["date"], self.cleaned_data["time"], clinic_zone())
        if starts is None:
            raise forms.ValidationError(MSG_NONEXISTENT_TIME)
        return starts

    def reschedule(self, session: TreatmentSession, *, actor: Any) -> RescheduleResult | None:
        """Move ``session`` as the valid form says; on a refusal, None with the reasons as errors."""
        try:
            return session_reschedule(
                session_id=session.pk,
                starts_at=self.starts_at(),
                chair_id=self.cleaned_data["chair"].pk if self.cleaned_data["chair"] else None,
                clinician_id=self.cleaned_data["clinician"].pk if self.cleaned_data["clinician"] else None,
                actor=actor,
                override_reason=self.cleaned_data["override_reason"].strip() or None,
            )
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        except DomainError as exc:
            problems = exc.details.get("problems") or []
            self.add_error(None, exc.message)
            for problem in problems[1:]:
                self.add_error(None, f"{problem['message']} ({problem['date']})")
        return None


def rescheduled_note(result: RescheduleResult) -> str:
    """What the page says once the session moved: where to, the rules set aside, what was cancelled."""
    moved = result.session
    note = f"Moved to {clinic_time(moved.starts_at)} in {moved.chair} with {moved.clinician}."
    if result.overrides:
        note += " Rules set aside: " + ", ".join(o.rule for o in result.overrides) + "."
    if result.cancelled_appointments:
        count = len(result.cancelled_appointments)
        note += f" {count} integration appointment(s) no longer fit the window and were cancelled."
    return note
