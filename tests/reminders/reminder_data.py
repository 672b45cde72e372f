"""Bulk data for the reminder worker tests and the dispatch benchmark: many reminders due now.

Each reminder is about its own scheduled session (one patient, one course each), so that the
send-time checks do all their real work. Rows are written with bulk_create: a few queries for
thousands of reminders.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from clinic.models import Chair, StaffMember
from courses.models import Course, TreatmentProtocol
from ketaminecare.roles import Role
from patients.models import Patient, Screening
from reminders.channels import FileSMSBackend
from reminders.models import Channel, Reminder, ReminderKind
from sessions.models import TreatmentSession

NEW_YORK = ZoneInfo("America/New_York")


class SlowFileSMSBackend(FileSMSBackend):
    """The file backend with a provider's latency (5 ms a message): a batch takes long enough
    for a test to kill its worker in the middle of it."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        time.sleep(0.005)
        return super().send(to=to, body=body, idempotency_key=idempotency_key)


def due_session_reminders(
    count: int,
    *,
    now: dt.datetime,
    kind: str = ReminderKind.SESSION_CONFIRM,
    channel: str = Channel.SMS,
    label: str = "bulk",
) -> list[int]:
    """``count`` reminders due one minute before ``now``, about sessions starting after it."""
    user_model = get_user_model()
    screener = user_model.objects.create(username=f"{label}-screener-{now.timestamp():.0f}")
    clinician_user = user_model.objects.create(username=f"{label}-clinician-{now.timestamp():.0f}")
    clinician = StaffMember.objects.create(
        user=clinician_user, role=Role.CLINICIAN, clinician_kind="nurse", display_name=f"{label} nurse"
    )
    chair = Chair.objects.create(name=f"{label} chair {now.timestamp():.0f}", location="Room 7")
    protocol, _ = TreatmentProtocol.objects.get_or_create(
        name=f"{label} protocol",
        defaults={
            "route": TreatmentProtocol.Route.IV_KETAMINE,
            "weekly_cadence": [3, 3],
            "preparation_instructions": "Please do not eat for 2 hours before your visit.",
        },
    )
    patients = Patient.objects.bulk_create(
        Patient(
            first_name=f"{label.title()}{i}",
            last_name="Sender",
            date_of_birth=dt.date(1980, 1, 1),
            phone=f"+1666{i:07d}",
            email=f"{label}{i}@example.test",
            time_zone="America/New_York",
            quiet_hours_start=dt.time(0),
            quiet_hours_end=dt.time(0),  # no quiet hours: the moment of the test may be any time
        )
        for i in range(count)
    )
    screenings = Screening.objects.bulk_create(
        Screening(
            patient=p,
            clinician=screener,
            performed_on=dt.date(2025, 1, 1),
            valid_until=dt.date(2040, 1, 1),
            outcome=Screening.Outcome.ELIGIBLE,
            informed_consent_off_label=True,
        )
        for p in patients
    )
    courses = Course.objects.bulk_create(
        Course(patient=p, protocol=protocol, screening=s) for p, s in zip(patients, screenings, strict=True)
    )
    first = now.astimezone(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    sessions = TreatmentSession.objects.bulk_create(
        TreatmentSession(
            course=c,
            patient=c.patient,
            sequence=1,
            chair=chair,
            clinician=clinician,
            # One chair and one clinician: two hours apart, the sessions never overlap.
            starts_at=first + dt.timedelta(hours=2 * i),
            ends_at=first + dt.timedelta(hours=2 * i, minutes=100),
            local_date=(first + dt.timedelta(hours=2 * i)).astimezone(NEW_YORK).date(),
        )
        for i, c in enumerate(courses)
    )
    due = now - dt.timedelta(minutes=1)
    reminders = Reminder.objects.bulk_create(
        Reminder(
            kind=kind,
            channel=channel,
            patient=s.patient,
            session=s,
            anchor_at=s.starts_at,
            subject_revision=s.revision,
            planned_at=due,
            due_at=due,
        )
        for s in sessions
    )
    return [r.pk for r in reminders]
