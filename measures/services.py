"""Writes of outcome measures and their alerts: each action one function, checked whole, atomic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from courses.models import Course
from ketaminecare.errors import InvalidInput, InvalidTransition, NotFound
from ketaminecare.rules import Rule
from measures import signals
from measures.models import Measure, MeasureAlert
from measures.scoring import instrument_of, score, validated_answers
from measures.selectors import alert_recipients
from patients.models import Patient

MSG_COURSE_OF_PATIENT = "The course is not this patient's."
MSG_ALREADY_ACKNOWLEDGED = "This alert was already acknowledged."
MSG_NO_ALERT = "No such alert."
MSG_ANSWERED_AHEAD = "A questionnaire cannot have been answered in the future."


@dataclass(frozen=True)
class Recorded:
    measure: Measure
    alert: MeasureAlert | None


def measure_record(
    *,
    patient: Patient,
    instrument: str,
    answers: Any,
    entered_by: Any,
    course: Course | None = None,
    answered_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """Score and keep one set of answers; raise an alert when an answer calls for a clinician.

    ``answers`` are checked whole first (InvalidInput naming the first item at fault, e.g.
    ``answers[3]``). Without a ``course``, the measure belongs to the patient's active course, if
    any. The source is the patient when ``entered_by`` is the patient's own login, else staff.
    ``answered_at`` is when the patient answered (a paper form entered later); never ahead of now.

    Side effects, in one transaction: the measure; for a PHQ-9 item 9 above 0, a MeasureAlert and
    the ``alert_raised`` signal, whose receiver (reminders) writes the staff messages to the
    outbox, due at once, to the patient's clinicians (``selectors.alert_recipients``).
    """
    kind = instrument_of(instrument)
    given = validated_answers(kind, answers)
    if course is not None and course.patient_id != patient.pk:
        raise InvalidInput(MSG_COURSE_OF_PATIENT, field="course", rule=Rule.COURSE_OF_PATIENT)
    scored = score(kind, given, ptsd_cutoff=settings.MEASURES_PCL5_PROBABLE_PTSD_CUTOFF)
    moment = now or timezone.now()
    if answered_at is not None and answered_at > moment:
        raise InvalidInput(MSG_ANSWERED_AHEAD, field="answered_at", rule=Rule.IN_THE_FUTURE)
    own = entered_by is not None and patient.user_id is not None and patient.user_id == entered_by.pk
    with transaction.atomic():
        if course is None:
            course = Course.objects.filter(patient=patient, status__in=Course.ACTIVE_STATUSES).first()
        measure = Measure.objects.create(
            patient=patient,
            course=course,
            instrument=kind.code,
            answers=given,
            total=scored.total,
            severity=scored.severity or "",
            clusters=scored.clusters,
            probable_ptsd=scored.probable_ptsd,
            source=Measure.Source.PATIENT if own else Measure.Source.STAFF,
            entered_by=entered_by,
            answered_at=answered_at or moment,
        )
        alert = None
        if scored.alert_items:
            alert = MeasureAlert.objects.create(
                patient=patient, measure=measure, reason=MeasureAlert.Reason.SELF_HARM_ITEM, raised_at=moment
            )
            recipients = [member.pk for member in alert_recipients(patient.pk)]
            signals.alert_raised.send(sender=MeasureAlert, alert=alert, recipient_ids=recipients, now=moment)
    return Recorded(measure=measure, alert=alert)


def measure_alert_acknowledge(
    *, alert_id: int, actor: Any, note: str = "", now: dt.datetime | None = None
) -> MeasureAlert:
    """A clinician has seen the alert and taken it on; it closes, once.

    Locks the alert's row (two clinicians acknowledging at once: the second is refused, 409) and
    sends ``alert_acknowledged`` so that staff messages not yet sent are cancelled.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        alert = MeasureAlert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            raise NotFound(MSG_NO_ALERT, rule=Rule.EXISTS)
        if alert.acknowledged_at is not None:
            raise InvalidTransition(
                MSG_ALREADY_ACKNOWLEDGED, rule=Rule.transition("acknowledge", MeasureAlert.Status.ACKNOWLEDGED)
            )
        alert.acknowledged_at, alert.acknowledged_by = moment, actor
        alert.acknowledgement_note = note.strip()
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note"])
        signals.alert_acknowledged.send(sender=MeasureAlert, alert_id=alert.pk, now=moment)
    return alert
