"""Reads of outcome measures and their alerts, each scoped by the access policy; who is told of
an alert; and a course's progress on each instrument from its baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from clinic.models import StaffMember
from courses.models import Course
from ketaminecare.access import labels
from ketaminecare.access.records import scope_q
from ketaminecare.roles import Role
from measures.models import Measure, MeasureAlert
from measures.scoring import INSTRUMENTS, Change, ChangeRules, change_of
from patients.models import Patient
from sessions.models import TreatmentSession


def measures_visible_to(user: Any) -> QuerySet[Measure]:
    return (
        Measure.objects.select_related("patient", "course")
        .prefetch_related("alerts")
        .filter(scope_q(user, labels.MEASURE))
    )


def measure_alerts_visible_to(user: Any) -> QuerySet[MeasureAlert]:
    return MeasureAlert.objects.select_related("patient", "measure", "acknowledged_by").filter(
        scope_q(user, labels.MEASURE_ALERT)
    )


def patient_visible_to(user: Any, patient_id: int) -> Patient | None:
    """The patient ``user`` may see with this id (a patient: themselves only), else None."""
    return Patient.objects.filter(scope_q(user, labels.PATIENT), pk=patient_id).first()


def course_visible_to(user: Any, course_id: int) -> Course | None:
    """The course ``user`` may see with this id (a patient: their own only), else None."""
    return Course.objects.filter(scope_q(user, labels.COURSE), pk=course_id).first()


def current_course(patient_id: int) -> Course | None:
    """The patient's active course, else their most recent one (None when they never had one)."""
    courses = Course.objects.filter(patient_id=patient_id)
    return (
        courses.filter(status__in=Course.ACTIVE_STATUSES).order_by("-created_at", "-id").first()
        or courses.order_by("-created_at", "-id").first()
    )


def alert_recipients(patient_id: int) -> list[StaffMember]:
    """The patient's clinicians, who are told of an alert at once.

    They are the active clinicians booked on the sessions (any status but cancelled) of the
    patient's current course: the active one, else the most recent one (``current_course``): the
    people who have seen or will see the patient in the chair. A patient with no course, or whose
    course has no such clinician left (all inactive), alerts every active clinician: an alert
    must always reach someone.
    """
    clinicians = StaffMember.objects.filter(role=Role.CLINICIAN, is_active=True).select_related("user")
    course = current_course(patient_id)
    if course is not None:
        on_course = list(
            clinicians.filter(
                sessions__course=course,
                sessions__status__in=[s for s in TreatmentSession.Status.values if s != "cancelled"],
            ).distinct()
        )
        if on_course:
            return on_course
    return list(clinicians)


def change_rules() -> ChangeRules:
    return ChangeRules(
        response_drop_percent=settings.MEASURES_PHQ9_RESPONSE_DROP_PERCENT,
        remission_below=settings.MEASURES_PHQ9_REMISSION_BELOW,
        pcl5_meaningful_drop=settings.MEASURES_PCL5_MEANINGFUL_CHANGE,
    )


@dataclass(frozen=True)
class Progress:
    """One instrument over one course: its first measure (the baseline), its latest, and the change."""

    course_id: int
    instrument: str
    count: int
    baseline: Measure
    latest: Measure
    change: Change


def course_progress(course: Course) -> list[Progress]:
    """For each instrument measured in ``course``: baseline, latest, change and what it means.

    The baseline is the course's first measure of the instrument (by when it was answered); with
    one measure only, the latest is the baseline and the change is 0.
    """
    by_instrument: dict[str, list[Measure]] = {}
    for measure in Measure.objects.filter(course=course).order_by("answered_at", "id"):
        by_instrument.setdefault(measure.instrument, []).append(measure)
    rules = change_rules()
    return [
        Progress(
            course_id=course.pk,
            instrument=code,
            count=len(measures),
            baseline=measures[0],
            latest=measures[-1],
            change=change_of(INSTRUMENTS[code], measures[0].total, measures[-1].total, rules=rules),
        )
        for code in INSTRUMENTS
        if (measures := by_instrument.get(code))
    ]
