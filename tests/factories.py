"""Test data built with factory_boy, plus a small clinic that most tests share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.conf import settings
from django.contrib.auth import get_user_model

from clinic.models import Chair, ClinicHours, StaffMember, WorkingHours
from courses.models import Course, TreatmentProtocol
from ketaminecare.roles import Role
from patients.models import Contraindication, Patient, Screening
from sessions.models import TreatmentSession


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("test-pass-123")


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, is_staff=True)
    role = Role.CLINICIAN
    clinician_kind = factory.LazyAttribute(lambda o: "nurse" if o.role == Role.CLINICIAN else "")
    display_name = factory.Sequence(lambda n: f"Staff {n}")

    @factory.post_generation
    def group(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        from django.contrib.auth.models import Group

        if create:
            self.user.groups.add(Group.objects.get_or_create(name=self.role)[0])


class ChairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chair

    name = factory.Sequence(lambda n: f"Chair {n}")
    location = "Treatment room"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Tester"
    date_of_birth = dt.date(1985, 4, 1)
    phone = factory.Sequence(lambda n: f"+1555{n:07d}")
    email = factory.LazyAttribute(lambda o: f"{o.first_name.lower()}@example.com")
    time_zone = "America/New_York"


class ScreeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Screening

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(UserFactory)
    performed_on = dt.date(2025, 1, 1)
    valid_until = dt.date(2040, 1, 1)
    outcome = Screening.Outcome.ELIGIBLE
    informed_consent_off_label = True
    contraindications_checked = factory.LazyFunction(lambda: list(Contraindication.values))


class ProtocolFactory(factory.django.DjangoModelFactory):
    """IV ketamine three times a week for two weeks (Mon/Wed/Fri: 11 days first to last)."""

    class Meta:
        model = TreatmentProtocol
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"IV ketamine 3x/week #{n}")
    route = TreatmentProtocol.Route.IV_KETAMINE
    weekly_cadence = factory.LazyFunction(lambda: [3, 3])
    induction_sessions_min = 4
    induction_sessions_max = 6
    induction_span_min_days = 9
    induction_span_max_days = 16
    min_gap_hours = 40
    infusion_minutes = 40
    monitoring_minutes = 60
    window_opens_after_hours = 24
    window_closes_after_hours = 48
    maintenance_interval_days = 21
    preparation_instructions = "Do not eat for 2 hours before your visit; arrange a ride home."


@dataclass
class Clinic:
    chairs: list[Chair]
    clinicians: list[StaffMember]
    therapists: list[StaffMember]
    front_desk: StaffMember
    protocol: TreatmentProtocol


def staff(
    role: str, *, weekdays: range = range(5), starts: dt.time = dt.time(8), ends: dt.time = dt.time(18)
) -> StaffMember:
    member = StaffMemberFactory(role=role)
    for weekday in weekdays:
        WorkingHours.objects.create(staff=member, weekday=weekday, starts=starts, ends=ends)
    return member


def clinic(*, chairs: int = 2, clinicians: int = 2, therapists: int = 1) -> Clinic:
    """Open Monday to Friday 08:00-18:00; staff work the same hours, therapists 09:00-17:00."""
    for weekday in range(5):
        ClinicHours.objects.get_or_create(weekday=weekday, defaults={"opens": dt.time(8), "closes": dt.time(18)})
    return Clinic(
        chairs=[ChairFactory() for _ in range(chairs)],
        clinicians=[staff(Role.CLINICIAN) for _ in range(clinicians)],
        therapists=[staff(Role.THERAPIST, starts=dt.time(9), ends=dt.time(17)) for _ in range(therapists)],
        front_desk=StaffMemberFactory(role=Role.FRONT_DESK),
        protocol=ProtocolFactory(),
    )


def screened_patient(*, clinician: StaffMember, **fields: Any) -> Patient:
    patient = PatientFactory(**fields)
    ScreeningFactory(patient=patient, clinician=clinician.user)
    return patient


class CourseFactory(factory.django.DjangoModelFactory):
    """A course row as the services would leave it, for other patients' bookings in a test."""

    class Meta:
        model = Course

    patient = factory.SubFactory(PatientFactory)
    protocol = factory.SubFactory(ProtocolFactory)
    screening = factory.SubFactory(ScreeningFactory, patient=factory.SelfAttribute("..patient"))


class TreatmentSessionFactory(factory.django.DjangoModelFactory):
    """A session written directly (no window): pass ``starts_at``, a chair and a clinician."""

    class Meta:
        model = TreatmentSession

    course = factory.SubFactory(CourseFactory)
    patient = factory.SelfAttribute("course.patient")
    sequence = 1
    chair = factory.SubFactory(ChairFactory)
    clinician = factory.SubFactory(StaffMemberFactory)
    starts_at = dt.datetime(2031, 6, 2, 12, tzinfo=dt.UTC)
    ends_at = factory.LazyAttribute(
        lambda o: o.starts_at.astimezone(dt.UTC) + dt.timedelta(minutes=o.course.protocol.session_minutes)
    )
    local_date = factory.LazyAttribute(lambda o: o.starts_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date())
