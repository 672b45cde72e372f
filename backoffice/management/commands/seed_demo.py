"""Seed a demo clinic: chairs, staff with hours, the three protocols, patients, courses.

Safe to run twice: configuration is fetched or created by its natural key, and a patient's
courses are booked only when that patient has none. Every course is booked through the same
services the front desk uses, with the clock set back where a course started in the past.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from typing_extensions import override

from accounts.roles import roles_ensure, user_with_role
from clinic.models import Chair, ClinicHours, ClosureDay, StaffMember, WorkingHours
from courses.models import Course, TreatmentProtocol
from ketaminecare.errors import BookingConflict
from ketaminecare.roles import Role
from patients.models import Contraindication, Patient, Screening
from patients.services import patient_create, screening_record
from sessions.scheduling import Preferences, local_instant
from sessions.selectors import clinic_zone
from sessions.services.booking import course_plan_and_book
from sessions.services.integration import window_appointment_book
from sessions.services.lifecycle import course_cancel, session_check_in, session_complete
from sessions.services.maintenance import maintenance_series_book

DEMO_PASSWORD = "ketamine-demo"  # noqa: S105 (a published demo login, never a real one)

PROTOCOLS: list[dict[str, Any]] = [
    {
        # Feder et al. 2021: six infusions over two consecutive weeks. Mon/Wed/Fri puts 11 or 12
        # days between first and last, so this protocol's span is narrower than the default.
        "name": "IV ketamine, three times a week",
        "route": TreatmentProtocol.Route.IV_KETAMINE,
        "weekly_cadence": [3, 3],
        "induction_sessions_min": 4,
        "induction_sessions_max": 6,
        "induction_span_min_days": 9,
        "induction_span_max_days": 16,
        "min_gap_hours": 40,
        "infusion_minutes": 40,
        "monitoring_minutes": 60,
        "maintenance_interval_days": 21,
        "preparation_instructions": (
            "Please do not eat for 2 hours or drink for 30 minutes before your visit, "
            "and arrange for someone to drive you home."
        ),
    },
    {
        # Abdallah et al. 2022: twice a week.
        "name": "IV ketamine, twice a week",
        "route": TreatmentProtocol.Route.IV_KETAMINE,
        "weekly_cadence": [2, 2, 2],
        "induction_sessions_min": 4,
        "induction_sessions_max": 6,
        "induction_span_min_days": 14,
        "induction_span_max_days": 21,
        "min_gap_hours": 68,
        "infusion_minutes": 40,
        "monitoring_minutes": 60,
        "maintenance_interval_days": 21,
        "preparation_instructions": (
            "Please do not eat for 2 hours or drink for 30 minutes before your visit, "
            "and arrange for someone to drive you home."
        ),
    },
    {
        # Weeks 1-4 twice a week, weeks 5-8 weekly; at least 2 h of monitoring after each dose.
        "name": "Esketamine nasal spray",
        "route": TreatmentProtocol.Route.ESKETAMINE_NASAL,
        "weekly_cadence": [2, 2, 2, 2, 1, 1, 1, 1],
        "induction_sessions_min": 8,
        "induction_sessions_max": 12,
        "induction_span_min_days": 42,
        "induction_span_max_days": 60,
        "min_gap_hours": 68,
        "infusion_minutes": 15,
        "monitoring_minutes": 120,
        "maintenance_interval_days": 14,
        "preparation_instructions": (
            "Please do not eat for 2 hours or drink for 30 minutes before your visit. "
            "You may not drive until the next day: arrange a ride home."
        ),
    },
]

STAFF = [
    ("frontdesk", Role.FRONT_DESK, "", "Sam Rivera"),
    ("dr.lee", Role.CLINICIAN, StaffMember.ClinicianKind.PRESCRIBER, "Dr. Morgan Lee"),
    ("nurse.kim", Role.CLINICIAN, StaffMember.ClinicianKind.NURSE, "Nurse Jo Kim"),
    ("nurse.ortiz", Role.CLINICIAN, StaffMember.ClinicianKind.NURSE, "Nurse Ana Ortiz"),
    ("therapist.patel", Role.THERAPIST, "", "Priya Patel, LCSW"),
    ("therapist.nguyen", Role.THERAPIST, "", "Dr. Minh Nguyen, PsyD"),
    ("admin", Role.ADMINISTRATOR, "", "Alex Admin"),
]

PATIENTS = [
    ("Jordan", "Avery", dt.date(1984, 3, 12), "+15550101001"),
    ("Casey", "Brooks", dt.date(1979, 7, 2), "+15550101002"),
    ("Riley", "Chen", dt.date(1991, 11, 23), "+15550101003"),
    ("Taylor", "Diaz", dt.date(1988, 1, 30), "+15550101004"),
    ("Morgan", "Ellis", dt.date(1975, 5, 17), "+15550101005"),
    ("Quinn", "Foster", dt.date(1995, 9, 8), "+15550101006"),
    ("Drew", "Garcia", dt.date(1982, 12, 1), "+15550101007"),
]


class Command(BaseCommand):
    help = f"Seed a demo clinic with logins for every role (password: {DEMO_PASSWORD})."

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        roles_ensure()
        with transaction.atomic():
            self._clinic()
            staff = self._staff()
            protocols = self._protocols()
            patients = self._patients(staff["dr.lee"])
            self._courses(patients, protocols, staff)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo clinic ready. Logins: {', '.join(u for u, *_ in STAFF)}, patient.avery; "
                f"password {DEMO_PASSWORD!r}."
            )
        )

    def _clinic(self) -> None:
        for weekday in range(5):
            ClinicHours.objects.get_or_create(weekday=weekday, defaults={"opens": dt.time(8), "closes": dt.time(18)})
        ClinicHours.objects.get_or_create(weekday=5, defaults={"opens": dt.time(9), "closes": dt.time(13)})
        for number in range(1, 5):
            Chair.objects.get_or_create(name=f"Chair {number}", defaults={"location": f"Treatment room {number}"})
        year = timezone.localdate().year
        for y in (year, year + 1):
            ClosureDay.objects.get_or_create(date=dt.date(y, 12, 25), defaults={"reason": "Christmas Day"})
            ClosureDay.objects.get_or_create(date=dt.date(y, 1, 1), defaults={"reason": "New Year's Day"})

    def _staff(self) -> dict[str, StaffMember]:
        members = {}
        for username, role, kind, name in STAFF:
            user = user_with_role(username=username, role=role, password=DEMO_PASSWORD, email=f"{username}@example.org")
            if role == Role.ADMINISTRATOR:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
            member, _ = StaffMember.objects.get_or_create(
                user=user, defaults={"role": role, "clinician_kind": kind, "display_name": name}
            )
            members[username] = member
            if role in (Role.CLINICIAN, Role.THERAPIST):
                days = range(5) if role == Role.CLINICIAN else range(6)
                for weekday in days:
                    starts, ends = (dt.time(8), dt.time(18)) if role == Role.CLINICIAN else (dt.time(9), dt.time(17))
                    if weekday == 5:
                        starts, ends = dt.time(9), dt.time(13)
                    WorkingHours.objects.get_or_create(
                        staff=member, weekday=weekday, starts=starts, defaults={"ends": ends}
                    )
        return members

    def _protocols(self) -> list[TreatmentProtocol]:
        result = []
        for spec in PROTOCOLS:
            protocol, _ = TreatmentProtocol.objects.get_or_create(name=spec["name"], defaults=spec)
            result.append(protocol)
        return result

    def _patients(self, clinician: StaffMember) -> list[Patient]:
        today = timezone.localdate()
        patients = []
        for first, last, born, phone in PATIENTS:
            patient = Patient.objects.filter(first_name=first, last_name=last, date_of_birth=born).first()
            if patient is None:
                patient = patient_create(
                    first_name=first,
                    last_name=last,
                    date_of_birth=born,
                    phone=phone,
                    email=f"{first.lower()}.{last.lower()}@example.com",
                )
            if not patient.screenings.exists():
                needs_review = last == "Garcia"
                screening_record(
                    patient=patient,
                    clinician=clinician.user,
                    performed_on=today - dt.timedelta(days=60),
                    outcome=Screening.Outcome.NEEDS_REVIEW if needs_review else Screening.Outcome.ELIGIBLE,
                    valid_until=today + dt.timedelta(days=180),
                    informed_consent_off_label=True,
                    contraindications_checked=list(Contraindication.values),
                    notes="Demo screening.",
                )
            patients.append(patient)
        with_login = patients[0]
        if with_login.user is None:
            with_login.user = user_with_role(username="patient.avery", role=Role.PATIENT, password=DEMO_PASSWORD)
            with_login.save(update_fields=["user"])
        return patients

    def _courses(
        self, patients: list[Patient], protocols: list[TreatmentProtocol], staff: dict[str, StaffMember]
    ) -> None:
        today = timezone.localdate()
        now = timezone.now()
        three_a_week, twice_a_week, esketamine = protocols
        # In induction: started last week, the sessions before today completed.
        course = _book(
            patients[0], three_a_week, _weekday_on_or_after(today - dt.timedelta(days=9)), earliest=dt.time(9)
        )
        if course is not None:
            _complete_until(course, now)
            _integration_appointment_book(course, staff["therapist.patel"], now=now)
        # Planned: twice a week from next Monday.
        _book(
            patients[1],
            twice_a_week,
            _weekday_on_or_after(today + dt.timedelta(days=1)),
            weekdays=frozenset({0, 3}),
        )
        # Esketamine starting next week, afternoons.
        _book(
            patients[2],
            esketamine,
            _weekday_on_or_after(today + dt.timedelta(days=3), 1),
            earliest=dt.time(13),
        )
        # Induction done a month ago; now in maintenance every three weeks at 09:00.
        old = _book(
            patients[3],
            three_a_week,
            _weekday_on_or_after(today - dt.timedelta(days=35)),
            earliest=dt.time(11),
        )
        if old is not None:
            _complete_until(old, now)
            first_maintenance = local_instant(
                _weekday_on_or_after(today + dt.timedelta(days=2), 2), dt.time(9), clinic_zone()
            )
            assert first_maintenance is not None
            _maintenance_book(old, staff, first_starts_at=first_maintenance, now=now)
        # Cancelled before it started.
        cancelled = _book(patients[4], twice_a_week, _weekday_on_or_after(today + dt.timedelta(days=8)))
        if cancelled is not None:
            course_cancel(course_id=cancelled.pk, reason="Patient moved out of state.", now=now)


def _weekday_on_or_after(day: dt.date, weekday: int = 0) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _book(patient: Patient, protocol: TreatmentProtocol, first: dt.date, **prefs: Any) -> Course | None:
    """The patient's course from ``first``, booked as on the morning it starts; None if they have one."""
    if patient.courses.exists():
        return None
    clock = local_instant(first, dt.time(7), clinic_zone())
    return course_plan_and_book(
        patient=patient,
        protocol=protocol,
        first_date=first,
        preferences=Preferences(**prefs),
        now=clock,
    )


def _complete_until(course: Course, until: dt.datetime) -> None:
    """Each session before ``until`` checked in and completed, each at its own time."""
    for session in course.sessions.filter(starts_at__lt=until).order_by("starts_at"):
        session_check_in(session_id=session.pk, ride_home_confirmed=True, now=session.starts_at)
        session_complete(
            session_id=session.pk,
            dose_mg=None,
            clinical_notes="Demo: tolerated well.",
            now=session.ends_at,
        )


def _integration_appointment_book(course: Course, therapist: StaffMember, *, now: dt.datetime) -> None:
    """An appointment with ``therapist`` in the window after the course's next session."""
    upcoming = course.sessions.filter(status="scheduled").order_by("starts_at").first()
    if upcoming is None:
        return
    window = upcoming.integration_window
    # The first whole hour after the window opens.
    slot = window.opens_at.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    window_appointment_book(window_id=window.pk, therapist_id=therapist.pk, starts_at=slot, now=now)


def _maintenance_book(
    course: Course, staff: dict[str, StaffMember], *, first_starts_at: dt.datetime, now: dt.datetime
) -> None:
    """Four maintenance sessions from ``first_starts_at``, with the first clinician and chair that are free."""
    clinicians = [m for m in staff.values() if m.role == Role.CLINICIAN]
    for chair, clinician in ((c, m) for m in clinicians for c in Chair.objects.order_by("name")):
        try:
            maintenance_series_book(
                course_id=course.pk,
                first_starts_at=first_starts_at,
                chair_id=chair.pk,
                clinician_id=clinician.pk,
                count=4,
                now=now,
            )
            break
        except BookingConflict:
            continue
