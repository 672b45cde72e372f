"""Reads the services, views and tasks need, with their joins applied up front."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet

from clinic.models import Chair, ClinicHours, ClosureDay, StaffMember, TimeOff, WorkingHours
from courses.models import Course
from ketaminecare.access import labels
from ketaminecare.access.records import scope_q
from ketaminecare.roles import Role
from ketaminecare.rules import Rule
from sessions.models import IntegrationAppointment, IntegrationWindow, RescheduleRequest, TreatmentSession
from sessions.scheduling import BusyIndex, ClinicState, FreeBlock, WeeklyHours, free_blocks, therapist_free_blocks

# Longer than any session or integration appointment can be: the services book each inside one
# block of (clinic or working) hours on one local day, and a local day lasts at most 25 hours.
LONGEST_BOOKING = dt.timedelta(days=2)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of ``first`` to the end of ``last`` on the zone's wall clock."""
    start = dt.datetime.combine(first, dt.time.min).replace(tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min).replace(tzinfo=zone)
    return start, end


def clinic_state_between(
    *,
    first: dt.date,
    last: dt.date,
    exclude_session_ids: Iterable[int] = (),
    now: dt.datetime | None = None,
) -> ClinicState:
    """Everything planning needs between two local dates, in a fixed number of queries (eight).

    Busy time covers two extra days after ``last`` so that integration windows (which open and
    close after their session) see the therapists' appointments.
    """
    zone = clinic_zone()
    start, end = day_bounds(first, last + dt.timedelta(days=3), zone)

    clinic_hours: WeeklyHours = {}
    for hours in ClinicHours.objects.all():
        clinic_hours.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    closures = set(ClosureDay.objects.filter(date__gte=first, date__lte=last).values_list("date", flat=True))
    chair_ids = list(Chair.objects.filter(is_active=True).order_by("name").values_list("id", flat=True))

    staff = StaffMember.objects.filter(is_active=True, role__in=[Role.CLINICIAN, Role.THERAPIST])
    roles = dict(staff.values_list("id", "role"))
    clinician_hours, therapist_hours = _staff_hours(roles)
    intervals = _time_off(roles, start=start, end=end)
    intervals += _bookings(start=start, end=end, exclude_session_ids=list(exclude_session_ids))

    return ClinicState(
        zone=zone,
        clinic_hours=clinic_hours,
        closures=closures,
        chair_ids=chair_ids,
        clinician_hours=clinician_hours,
        therapist_hours=therapist_hours,
        busy=BusyIndex(intervals),
        slot=dt.timedelta(minutes=settings.BOOKING_SLOT_MINUTES),
        integration_length=dt.timedelta(minutes=settings.INTEGRATION_APPOINTMENT_MINUTES),
        not_before=now,
    )


Interval = tuple[tuple[str, int], dt.datetime, dt.datetime]


def _staff_hours(roles: dict[int, str]) -> tuple[dict[int, WeeklyHours], dict[int, WeeklyHours]]:
    """The weekly working hours of the active clinicians and of the active therapists (one query)."""
    clinician_hours: dict[int, WeeklyHours] = {}
    therapist_hours: dict[int, WeeklyHours] = {}
    for staff_id in roles:
        target = clinician_hours if roles[staff_id] == Role.CLINICIAN else therapist_hours
        target[staff_id] = {}
    for staff_id, weekday, starts, ends in (
        WorkingHours.objects.filter(staff_id__in=roles)
        .order_by("staff_id", "weekday", "starts")
        .values_list("staff_id", "weekday", "starts", "ends")
    ):
        target = clinician_hours if roles[staff_id] == Role.CLINICIAN else therapist_hours
        target[staff_id].setdefault(weekday, []).append((starts, ends))
    return clinician_hours, therapist_hours


def _time_off(roles: dict[int, str], *, start: dt.datetime, end: dt.datetime) -> list[Interval]:
    """The staff's time off overlapping [start, end), as busy intervals (one query)."""
    intervals: list[Interval] = []
    for staff_id, off_start, off_end in TimeOff.objects.filter(
        starts_at__lt=end, ends_at__gt=start, staff_id__in=roles
    ).values_list("staff_id", "starts_at", "ends_at"):
        kind = "clinician" if roles[staff_id] == Role.CLINICIAN else "therapist"
        intervals.append(((kind, staff_id), off_start, off_end))
    return intervals


def _bookings(*, start: dt.datetime, end: dt.datetime, exclude_session_ids: list[int]) -> list[Interval]:
    """The sessions and appointments overlapping [start, end), as busy intervals (two queries)."""
    intervals: list[Interval] = []
    # A session or an appointment lies inside one local day's hours, so one that overlaps
    # [start, end) starts less than LONGEST_BOOKING before ``start``. Without that lower bound the
    # range has none on starts_at, and PostgreSQL reads every row booked before ``end``: a plan
    # would slow down with each year of history.
    earliest = start - LONGEST_BOOKING
    sessions = (
        TreatmentSession.objects.filter(
            starts_at__gte=earliest,
            starts_at__lt=end,
            ends_at__gt=start,
            status__in=TreatmentSession.OCCUPYING_STATUSES,
        )
        .exclude(id__in=exclude_session_ids)
        .values_list("chair_id", "clinician_id", "patient_id", "starts_at", "ends_at")
    )
    for chair_id, clinician_id, patient_id, s_start, s_end in sessions:
        intervals.append((("chair", chair_id), s_start, s_end))
        intervals.append((("clinician", clinician_id), s_start, s_end))
        intervals.append((("patient", patient_id), s_start, s_end))
    for therapist_id, a_start, a_end in IntegrationAppointment.objects.filter(
        starts_at__gte=earliest,
        starts_at__lt=end,
        ends_at__gt=start,
        status__in=IntegrationAppointment.OCCUPYING_STATUSES,
    ).values_list("therapist_id", "starts_at", "ends_at"):
        intervals.append((("therapist", therapist_id), a_start, a_end))
    return intervals


def session_list(*, start: dt.datetime | None = None, end: dt.datetime | None = None) -> QuerySet[TreatmentSession]:
    qs = TreatmentSession.objects.select_related(
        "course__protocol", "patient", "chair", "clinician", "integration_window"
    )
    if start is not None:
        qs = qs.filter(ends_at__gt=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    return qs


def window_list() -> QuerySet[IntegrationWindow]:
    return IntegrationWindow.objects.filter(cancelled_at__isnull=True).select_related("session__chair", "patient")


def course_list_with_progress() -> QuerySet[Course]:
    """Courses with their progress counted in the same query."""
    return Course.objects.select_related("patient", "protocol", "screening").annotate(
        sessions_done=Count("sessions", filter=Q(sessions__status=TreatmentSession.Status.COMPLETED), distinct=True),
        no_shows=Count("sessions", filter=Q(sessions__status=TreatmentSession.Status.NO_SHOW), distinct=True),
        sessions_held=Count("sessions", filter=Q(sessions__status=TreatmentSession.Status.HELD), distinct=True),
        sessions_cancelled=Count(
            "sessions", filter=Q(sessions__status=TreatmentSession.Status.CANCELLED), distinct=True
        ),
        sessions_scheduled=Count(
            "sessions", filter=Q(sessions__status=TreatmentSession.Status.SCHEDULED), distinct=True
        ),
        integration_attended=Count(
            "sessions__integration_window__appointments",
            filter=Q(sessions__integration_window__appointments__status=IntegrationAppointment.Status.ATTENDED),
            distinct=True,
        ),
    )


MSG_BELOW_MINIMUM = (
    "The course has {live} live induction sessions; its protocol asks for at least {minimum}. "
    "Book a make-up session or review the course."
)


@dataclass(frozen=True)
class InductionShortfall:
    """A course with fewer live induction sessions (scheduled, checked in, completed) than its minimum."""

    course_id: int
    live: int
    minimum: int

    def as_dict(self) -> dict[str, Any]:
        """The ``course_warning`` of an answer that left the course short."""
        return {
            "rule": Rule.INDUCTION_BELOW_MINIMUM,
            "message": MSG_BELOW_MINIMUM.format(live=self.live, minimum=self.minimum),
            "course": self.course_id,
            "live": self.live,
            "minimum": self.minimum,
        }


def induction_shortfall(course: Course) -> InductionShortfall | None:
    """How far ``course`` falls below its protocol's induction minimum, or None when it does not."""
    live = TreatmentSession.objects.filter(
        course=course, phase=TreatmentSession.Phase.INDUCTION, status__in=TreatmentSession.OCCUPYING_STATUSES
    ).count()
    minimum = int(course.protocol.induction_sessions_min)
    return InductionShortfall(course_id=course.pk, live=live, minimum=minimum) if live < minimum else None


def course_shortfall(course_id: int) -> InductionShortfall | None:
    """The shortfall of a course marked "induction incomplete" and still active, else None."""
    course = (
        Course.objects.select_related("protocol")
        .filter(pk=course_id, status__in=Course.ACTIVE_STATUSES, induction_incomplete_at__isnull=False)
        .first()
    )
    return induction_shortfall(course) if course is not None else None


def courses_below_minimum(user: Any) -> QuerySet[Course]:
    """The active courses ``user`` may see that are marked short of their induction minimum, each
    with ``live_induction`` counted in the same query."""
    live = Q(
        sessions__phase=TreatmentSession.Phase.INDUCTION,
        sessions__status__in=TreatmentSession.OCCUPYING_STATUSES,
    )
    return (
        Course.objects.select_related("patient", "protocol")
        .filter(scope_q(user, labels.COURSE))
        .filter(status__in=Course.ACTIVE_STATUSES, induction_incomplete_at__isnull=False)
        .annotate(live_induction=Count("sessions", filter=live))
        .order_by("induction_incomplete_at", "id")
    )


# ---------------------------------------------------------------------------------------------
# Reads scoped to a user by the access policy's records' scope (ketaminecare.access.records): a
# patient sees their own rows only; a therapist sees windows and their own appointments, never
# the treatment sessions (dose and clinical notes live there).


def sessions_visible_to(user: Any) -> QuerySet[TreatmentSession]:
    return session_list().filter(scope_q(user, labels.SESSION))


def windows_visible_to(user: Any) -> QuerySet[IntegrationWindow]:
    """Active windows with their active appointment prefetched and ``booked`` annotated."""
    active = IntegrationAppointment.objects.filter(status__in=IntegrationAppointment.OCCUPYING_STATUSES)
    return (
        window_list()
        .filter(scope_q(user, labels.WINDOW))
        .annotate(booked=Exists(active.filter(window=OuterRef("pk"))))
        .prefetch_related(
            Prefetch("appointments", queryset=active.select_related("therapist"), to_attr="active_appointments")
        )
    )


def board_windows(
    user: Any, *, at: dt.datetime, soon: dt.timedelta, ahead: dt.timedelta
) -> QuerySet[IntegrationWindow]:
    """The windows a therapist's board lists at ``at``: live, not yet closed, and either open or
    opening within ``soon``, or unbooked and opening within ``ahead``."""
    return (
        windows_visible_to(user)
        .filter(live_windows(), closes_at__gt=at)
        .filter(Q(opens_at__lte=at + soon) | Q(booked=False, opens_at__lte=at + ahead))
        .order_by("opens_at", "closes_at", "pk")
    )


def appointments_visible_to(user: Any) -> QuerySet[IntegrationAppointment]:
    qs = IntegrationAppointment.objects.select_related("therapist", "patient", "window")
    return qs.filter(scope_q(user, labels.APPOINTMENT))


def staff_visible() -> QuerySet[StaffMember]:
    return StaffMember.objects.filter(is_active=True)


def availability_between(
    *,
    first: dt.date,
    last: dt.date,
    session_length: dt.timedelta,
    chair_id: int | None = None,
    clinician_id: int | None = None,
    patient_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[FreeBlock]:
    """Free chair-and-clinician stretches long enough for one session, from ``first`` to ``last``."""
    state = clinic_state_between(first=first, last=last, now=now)
    return free_blocks(
        state,
        first=first,
        last=last,
        length=session_length,
        chair_ids=[chair_id] if chair_id else None,
        clinician_ids=[clinician_id] if clinician_id else None,
        patient_id=patient_id,
    )


def window_free_slots(
    window: IntegrationWindow, *, therapist_id: int | None = None, now: dt.datetime | None = None
) -> list[FreeBlock]:
    """Free stretches of a therapist (or of every therapist) inside a window, one appointment long."""
    zone = clinic_zone()
    state = clinic_state_between(
        first=window.opens_at.astimezone(zone).date(), last=window.closes_at.astimezone(zone).date(), now=now
    )
    therapists = [therapist_id] if therapist_id else sorted(state.therapist_hours)
    return therapist_free_blocks(
        state,
        therapist_ids=therapists,
        opens=window.opens_at,
        closes=window.closes_at,
        length=dt.timedelta(minutes=settings.INTEGRATION_APPOINTMENT_MINUTES),
    )


def live_windows() -> Q:
    """Windows that are neither cancelled nor closed."""
    return Q(cancelled_at__isnull=True, closed_at__isnull=True)


def booked_window_ids(window_ids: Sequence[int]) -> set[int]:
    """Those of ``window_ids`` that hold an appointment which occupies them."""
    return set(
        IntegrationAppointment.objects.filter(
            window_id__in=window_ids, status__in=IntegrationAppointment.OCCUPYING_STATUSES
        ).values_list("window_id", flat=True)
    )


def next_visits(course_ids: Iterable[int], *, now: dt.datetime) -> dict[int, dt.datetime]:
    """Each course's next scheduled session start after ``now`` (courses with none are left out)."""
    rows = (
        TreatmentSession.objects.filter(
            course_id__in=list(course_ids), status=TreatmentSession.Status.SCHEDULED, starts_at__gt=now
        )
        .values("course_id")
        .annotate(first=Min("starts_at"))
        .values_list("course_id", "first")
    )
    return dict(rows)


def open_request_session_ids(session_ids: Iterable[int]) -> set[int]:
    """Those of ``session_ids`` with an open reschedule request."""
    return set(
        RescheduleRequest.objects.filter(
            session_id__in=list(session_ids), status=RescheduleRequest.Status.OPEN
        ).values_list("session_id", flat=True)
    )


def courses_visible_to(user: Any) -> QuerySet[Course]:
    """Courses with their progress and their sessions, scoped to what ``user`` may see."""
    sessions = TreatmentSession.objects.select_related("integration_window").order_by("sequence")
    # A grouped query ignores Meta.ordering: order explicitly so that pages are stable.
    return (
        course_list_with_progress()
        .filter(scope_q(user, labels.COURSE))
        .prefetch_related(Prefetch("sessions", queryset=sessions))
        .order_by("-created_at", "-id")
    )


def reschedule_requests_visible_to(user: Any) -> QuerySet[RescheduleRequest]:
    qs = RescheduleRequest.objects.select_related("patient", "session", "handled_by")
    return qs.filter(scope_q(user, labels.RESCHEDULE_REQUEST))


def chair_day_sessions(user: Any, *, day: dt.date) -> QuerySet[TreatmentSession]:
    """The sessions ``user`` may see on one clinic day, cancelled ones left out, in time order."""
    start, end = day_bounds(day, day, clinic_zone())
    return (
        sessions_visible_to(user)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=TreatmentSession.Status.CANCELLED)
        .order_by("starts_at", "id")
    )


def sessions_upcoming_for(user: Any, *, now: dt.datetime) -> QuerySet[TreatmentSession]:
    """The sessions still to come that ``user`` may see, each marked ``change_requested`` when a
    request to move it is open (one query)."""
    open_requests = RescheduleRequest.objects.filter(session=OuterRef("pk"), status=RescheduleRequest.Status.OPEN)
    return (
        sessions_visible_to(user)
        .filter(ends_at__gt=now, status__in=(TreatmentSession.Status.SCHEDULED, TreatmentSession.Status.CHECKED_IN))
        .annotate(change_requested=Exists(open_requests))
        .order_by("starts_at", "id")
    )


def appointments_upcoming_for(user: Any, *, now: dt.datetime) -> QuerySet[IntegrationAppointment]:
    """The booked appointments still to come that ``user`` may see."""
    return (
        appointments_visible_to(user)
        .filter(ends_at__gt=now, status=IntegrationAppointment.Status.BOOKED)
        .order_by("starts_at", "id")
    )
