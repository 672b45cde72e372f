"""A course's progress on each instrument (baseline, latest, change, response, remission), and who
is told of an alert."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import StaffMember
from measures.selectors import alert_recipients, course_progress
from measures.services import measure_record
from sessions.models import TreatmentSession
from sessions.scheduling import Preferences
from sessions.services.booking import course_plan_and_book
from tests import factories

pytestmark = pytest.mark.django_db


def answer(patient, instrument, answers, when, course=None):
    return measure_record(
        patient=patient, instrument=instrument, answers=answers, entered_by=None, course=course, now=when
    ).measure


def test_progress_from_the_first_measure_of_each_instrument_in_the_course(patient, course, now):
    first = answer(patient, "phq9", [3, 3, 2, 2, 2, 2, 2, 2, 0], now)  # 18
    answer(patient, "phq9", [2, 2, 2, 2, 2, 2, 0, 0, 0], now + dt.timedelta(days=7))  # 12
    last = answer(patient, "phq9", [1, 1, 1, 1, 0, 0, 0, 0, 0], now + dt.timedelta(days=14))  # 4
    pcl_first = answer(patient, "pcl5", [3] * 15 + [0] * 5, now)  # 45
    pcl_last = answer(patient, "pcl5", [2] * 17 + [0] * 3, now + dt.timedelta(days=14))  # 34

    progress = {p.instrument: p for p in course_progress(course)}

    assert set(progress) == {"phq9", "pcl5"}
    phq9 = progress["phq9"]
    assert (phq9.count, phq9.baseline, phq9.latest) == (3, first, last)
    assert (phq9.change.baseline, phq9.change.latest, phq9.change.change) == (18, 4, -14)
    assert (phq9.change.response, phq9.change.remission, phq9.change.clinically_meaningful) == (True, True, None)
    pcl5 = progress["pcl5"]
    assert (pcl5.baseline, pcl5.latest, pcl5.change.change) == (pcl_first, pcl_last, -11)
    assert (pcl5.change.clinically_meaningful, pcl5.change.response) == (True, None)


def test_progress_keeps_to_the_course_and_follows_the_settings(clinic, patient, course, settings, monday, now):
    neighbour = factories.screened_patient(clinician=clinic.clinicians[0])
    their_course = course_plan_and_book(
        patient=neighbour, protocol=clinic.protocol, first_date=monday + dt.timedelta(days=1),
        preferences=Preferences(), now=now,
    )  # fmt: skip
    answer(neighbour, "pcl5", [4] * 20, now - dt.timedelta(days=1))
    first = answer(patient, "pcl5", [2] * 20, now)  # 40
    answer(patient, "pcl5", [2] * 15 + [0] * 5, now + dt.timedelta(days=7))  # 30: a drop of 10
    settings.MEASURES_PCL5_MEANINGFUL_CHANGE = 12

    (pcl5,) = course_progress(course)

    assert (pcl5.baseline, pcl5.count, pcl5.change.change) == (first, 2, -10)
    assert pcl5.change.clinically_meaningful is False
    assert [p.count for p in course_progress(their_course)] == [1]


def test_one_measure_is_its_own_baseline(patient, course, now):
    only = answer(patient, "gad7", [1] * 7, now)
    (gad7,) = course_progress(course)
    assert (gad7.baseline, gad7.latest, gad7.change.change, gad7.change.response) == (only, only, 0, None)


def test_alert_recipients_are_the_clinicians_on_the_course_else_all_active(clinic, patient, course):
    on_course = {s.clinician for s in TreatmentSession.objects.filter(course=course).select_related("clinician")}
    assert on_course
    assert set(alert_recipients(patient.pk)) == on_course
    for member in on_course:
        member.is_active = False
        member.save()
    newcomer = factories.staff("clinician")
    active = set(StaffMember.objects.filter(role="clinician", is_active=True))
    assert newcomer in active
    assert set(alert_recipients(patient.pk)) == active


def test_a_patient_without_a_course_alerts_every_active_clinician(clinic, patient):
    assert set(alert_recipients(patient.pk)) == set(clinic.clinicians)
