"""Recording a measure: scored, kept with its course, and for a PHQ-9 item 9 above 0 an alert row
and its messages to the patient's clinicians in the outbox, in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from ketaminecare.errors import InvalidInput, InvalidTransition
from ketaminecare.rules import Rule
from measures.models import Measure, MeasureAlert
from measures.services import measure_alert_acknowledge, measure_record
from reminders.models import Channel, Reminder, ReminderKind
from sessions.models import TreatmentSession
from tests import factories
from tests.api.conftest import patient_login
from tests.measures.conftest import PHQ9_CALM, PHQ9_ITEM9

pytestmark = pytest.mark.django_db


def test_a_measure_is_scored_and_belongs_to_the_patients_active_course(clinic, patient, course, now):
    clinician = clinic.clinicians[0].user
    recorded = measure_record(patient=patient, instrument="phq9", answers=PHQ9_CALM, entered_by=clinician, now=now)

    measure = Measure.objects.get(pk=recorded.measure.pk)
    assert (measure.total, measure.severity, measure.clusters, measure.probable_ptsd) == (2, "minimal", None, None)
    assert measure.answers == PHQ9_CALM
    assert measure.course == course
    assert (measure.source, measure.entered_by, measure.answered_at) == (Measure.Source.STAFF, clinician, now)
    assert recorded.alert is None
    assert not MeasureAlert.objects.exists()
    assert not Reminder.objects.filter(kind=ReminderKind.MEASURE_ALERT).exists()


def test_a_pcl5_keeps_its_clusters_and_the_cutoff_of_the_setting(clinic, patient, settings, now):
    settings.MEASURES_PCL5_PROBABLE_PTSD_CUTOFF = 31
    answers = [2] * 15 + [1] + [0] * 4  # 31
    measure = measure_record(patient=patient, instrument="pcl5", answers=answers, entered_by=None, now=now).measure
    measure.refresh_from_db()
    assert (measure.total, measure.severity, measure.probable_ptsd) == (31, "", True)
    assert measure.clusters == {"B": 10, "C": 4, "D": 14, "E": 3}
    assert measure.course is None  # no course yet


def test_answers_by_the_patients_own_login_are_the_patients(patient, now):
    user = patient_login(patient, "pat.own")
    measure = measure_record(patient=patient, instrument="gad7", answers=[3] * 7, entered_by=user, now=now).measure
    assert (measure.source, measure.severity, measure.total) == (Measure.Source.PATIENT, "severe", 21)


def test_item_9_raises_an_alert_for_the_clinicians_of_the_patients_course(clinic, patient, course, now):
    extra = factories.staff("clinician")  # not on the course: not told
    recorded = measure_record(patient=patient, instrument="phq9", answers=PHQ9_ITEM9, entered_by=None, now=now)

    alert = MeasureAlert.objects.get()
    assert recorded.alert == alert
    assert (alert.patient, alert.measure, alert.reason) == (patient, recorded.measure, "phq9_item9")
    assert (alert.raised_at, alert.acknowledged_at, alert.acknowledged_by, alert.status) == (now, None, None, "open")
    on_course = set(TreatmentSession.objects.filter(course=course).values_list("clinician_id", flat=True))
    assert on_course and extra.pk not in on_course
    rows = Reminder.objects.filter(alert=alert)
    assert {(r.staff_id, r.channel) for r in rows} == {
        (c, ch) for c in on_course for ch in (Channel.SMS, Channel.EMAIL)
    }
    assert {(r.kind, r.status, r.due_at, r.patient_id) for r in rows} == {
        (ReminderKind.MEASURE_ALERT, Reminder.Status.PENDING, now, None)
    }


def test_item_9_without_a_course_alerts_every_active_clinician(clinic, patient, settings, now):
    settings.MEASURES_ALERT_CHANNELS = ["email"]
    gone = factories.staff("clinician")
    gone.is_active = False
    gone.save()
    recorded = measure_record(patient=patient, instrument="phq9", answers=PHQ9_ITEM9, entered_by=None, now=now)
    rows = Reminder.objects.filter(alert=recorded.alert)
    assert {r.staff_id for r in rows} == {c.pk for c in clinic.clinicians}
    assert rows.count() == len(clinic.clinicians)
    assert {r.channel for r in rows} == {Channel.EMAIL}


def test_refused_answers_write_nothing(patient, now):
    with pytest.raises(InvalidInput) as caught:
        measure_record(patient=patient, instrument="phq9", answers=[0] * 8 + [4], entered_by=None, now=now)
    assert (caught.value.field, caught.value.rule) == ("answers[8]", Rule.OUT_OF_RANGE)
    assert not Measure.objects.exists() and not MeasureAlert.objects.exists() and not Reminder.objects.exists()


def test_a_course_of_another_patient_is_refused(clinic, patient, course, now):
    other = factories.screened_patient(clinician=clinic.clinicians[0])
    with pytest.raises(InvalidInput) as caught:
        measure_record(patient=other, instrument="gad7", answers=[0] * 7, entered_by=None, course=course, now=now)
    assert (caught.value.field, caught.value.rule) == ("course", Rule.COURSE_OF_PATIENT)


def test_the_database_refuses_answers_that_do_not_fit_the_instrument(patient, now):
    with pytest.raises(IntegrityError), transaction.atomic():
        Measure.objects.create(
            patient=patient, instrument="phq9", answers=[0] * 8, total=0, severity="minimal", source="staff",
            answered_at=now,
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        Measure.objects.create(
            patient=patient, instrument="gad7", answers=[3] * 7, total=22, severity="severe", source="staff",
            answered_at=now,
        )  # fmt: skip


def test_acknowledging_closes_the_alert_once_and_cancels_its_unsent_messages(clinic, patient, course, now):
    alert = measure_record(patient=patient, instrument="phq9", answers=PHQ9_ITEM9, entered_by=None, now=now).alert
    assert alert is not None
    clinician = clinic.clinicians[0].user
    later = now + dt.timedelta(minutes=5)

    done = measure_alert_acknowledge(alert_id=alert.pk, actor=clinician, note=" Called the patient. ", now=later)

    assert (done.acknowledged_at, done.acknowledged_by, done.acknowledgement_note) == (
        later,
        clinician,
        "Called the patient.",
    )
    assert done.status == "acknowledged"
    assert set(Reminder.objects.filter(alert=alert).values_list("status", flat=True)) == {Reminder.Status.CANCELLED}
    with pytest.raises(InvalidTransition) as caught:
        measure_alert_acknowledge(alert_id=alert.pk, actor=clinic.clinicians[1].user, now=later)
    assert caught.value.rule == Rule.ACKNOWLEDGE_FROM_ACKNOWLEDGED
    assert caught.value.http_status == 409
    alert.refresh_from_db()
    assert alert.acknowledged_by == clinician
