"""The calendar's endpoints: chairs and staff time, sessions and their actions, availability,
integration windows and appointments. Each view validates, calls one service or selector, and
serializes; who may call it is the access policy's operations table for the view's
``policy_resource``, what they may see is the selector (the records' scope)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from api.courses.serializers import RescheduleRequestSerializer
from api.sessions import filters
from api.sessions import serializers as s
from audit.hooks import AuditedViewMixin
from clinic.models import StaffMember
from ketaminecare.access.labels import APPOINTMENT
from ketaminecare.access.records import sees_all
from ketaminecare.api.permissions import ActionRoles, has_role
from ketaminecare.api.schema import error_responses
from ketaminecare.errors import InvalidInput
from ketaminecare.roles import Role
from sessions.models import IntegrationWindow
from sessions.selectors import (
    appointments_visible_to,
    availability_between,
    sessions_visible_to,
    staff_visible,
    window_free_slots,
    windows_visible_to,
)
from sessions.services.booking import session_reschedule
from sessions.services.common import OVERRIDE_PERMISSION
from sessions.services.integration import (
    integration_appointment_cancel,
    integration_appointment_move,
    integration_appointment_record,
    window_appointment_book,
)
from sessions.services.lifecycle import (
    session_cancel,
    session_check_in,
    session_complete,
    session_hold,
    session_no_show,
    session_ride_home_confirm,
)
from sessions.services.requests import reschedule_request_create
from sessions.services.staff_time import (
    StaffTimeChange,
    bookings_outside,
    bookings_outside_availability,
    time_off_change,
    time_off_record,
    working_hours_add,
    working_hours_change,
    working_hours_remove,
)


def _input(request: Request, serializer_class: type[BaseSerializer], **context: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _staff_of(request: Request) -> StaffMember | None:
    user: Any = request.user
    return StaffMember.objects.filter(user=user, is_active=True).first()


def _is_therapist_only(request: Request) -> bool:
    """A therapist who sees only their own appointments books and moves them as themselves."""
    return has_role(request.user, Role.THERAPIST) and not sees_all(request.user, APPOINTMENT)


# ---------------------------------------------------------------------------------------------
# Chairs, staff, working hours, time off


class _ConfigViewSet(viewsets.ModelViewSet):
    """Clinic configuration: the front desk and administrators write, the staff read."""

    permission_classes = (ActionRoles,)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


@extend_schema_view(
    list=extend_schema(summary="Chairs"),
    retrieve=extend_schema(summary="A chair"),
    create=extend_schema(summary="Add a chair"),
    partial_update=extend_schema(summary="Change a chair"),
)
class ChairViewSet(_ConfigViewSet):
    policy_resource = "chairs"
    serializer_class = s.ChairSerializer
    filterset_class = filters.ChairFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        from clinic.models import Chair

        return Chair.objects.all()


@extend_schema_view(list=extend_schema(summary="Staff members"), retrieve=extend_schema(summary="A staff member"))
class StaffMemberViewSet(AuditedViewMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = (ActionRoles,)
    policy_resource = "staff"
    serializer_class = s.StaffMemberSerializer
    filterset_class = filters.StaffFilter

    def get_queryset(self) -> Any:
        if self.action in ("bookings_to_move", "all_bookings_to_move"):
            # Deactivating someone leaves every booking of theirs to move: look them up too.
            return StaffMember.objects.all()
        return staff_visible()

    @extend_schema(
        operation_id="staff_bookings_to_move",
        summary="The person's bookings that their hours or time off no longer allow",
        responses=s.BookingToMoveSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="bookings-to-move", filter_backends=[], pagination_class=None)
    def bookings_to_move(self, request: Request, pk: str | None = None) -> Response:
        """Scheduled sessions (a clinician) or booked appointments (a therapist) from now on that
        fall outside the person's working hours or in their time off: what is left to rebook
        after a change made with ``accept_conflicts``."""
        found = bookings_outside_availability(self.get_object(), now=timezone.now())
        self.audit_touch(patient_ids=[b.patient_id for b in found])
        return Response([b.as_dict() for b in found])

    @extend_schema(
        operation_id="staff_bookings_to_move_all",
        summary="Every booking whose clinician or therapist can no longer give it",
        responses=s.BookingToMoveSerializer(many=True),
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="bookings-to-move", filter_backends=[], pagination_class=None)
    def all_bookings_to_move(self, request: Request) -> Response:
        """The whole clinic's list of what to rebook, earliest first: sessions and appointments
        from now on whose person is off, not working, inactive or no longer in the role."""
        found = bookings_outside(self.get_queryset(), now=timezone.now())
        self.audit_touch(patient_ids=[b.patient_id for b in found])
        return Response([b.as_dict() for b in found])


class _StaffTimeViewSet(AuditedViewMixin, _ConfigViewSet):
    """Writes go through sessions.services.staff_time: a change that leaves bookings outside the
    person's time answers 409 (rule staff_has_bookings) unless ``accept_conflicts`` is true, and
    the answer then lists the bookings to move."""

    def _changed(self, serializer: BaseSerializer, change: StaffTimeChange) -> None:
        serializer.instance = change.instance
        serializer.context["bookings_to_move"] = [b.as_dict() for b in change.bookings_to_move]
        self.audit_touch(patient_ids=[b.patient_id for b in change.bookings_to_move])

    @staticmethod
    def _changes(serializer: BaseSerializer) -> tuple[dict[str, Any], bool]:
        data = dict(cast(dict[str, Any], serializer.validated_data))
        accept = bool(data.pop("accept_conflicts", False))
        if "staff" in data:
            data["staff_id"] = data.pop("staff").pk
        return data, accept


@extend_schema_view(
    list=extend_schema(summary="Staff working hours"),
    retrieve=extend_schema(summary="A block of working hours"),
    create=extend_schema(summary="Add a block of working hours"),
    partial_update=extend_schema(summary="Change a block of working hours"),
    destroy=extend_schema(
        summary="Remove a block of working hours",
        parameters=[s.AcceptConflictsQuerySerializer],
        responses={
            204: None,
            200: inline_serializer("BookingsToMove", {"bookings_to_move": s.BookingToMoveSerializer(many=True)}),
        },
    ),
)
class WorkingHoursViewSet(_StaffTimeViewSet):
    policy_resource = "working_hours"
    serializer_class = s.WorkingHoursSerializer
    filterset_class = filters.WorkingHoursFilter

    def get_queryset(self) -> Any:
        from clinic.models import WorkingHours

        return WorkingHours.objects.select_related("staff")

    def perform_create(self, serializer: BaseSerializer) -> None:
        data, _ = self._changes(serializer)
        self._changed(serializer, working_hours_add(**data))

    def perform_update(self, serializer: BaseSerializer) -> None:
        data, accept = self._changes(serializer)
        block_id = cast(Any, serializer.instance).pk
        self._changed(serializer, working_hours_change(block_id=block_id, changes=data, accept_conflicts=accept))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = s.AcceptConflictsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        change = working_hours_remove(
            block_id=self.get_object().pk, accept_conflicts=query.validated_data["accept_conflicts"]
        )
        if change.bookings_to_move:
            self.audit_touch(patient_ids=[b.patient_id for b in change.bookings_to_move])
            return Response({"bookings_to_move": [b.as_dict() for b in change.bookings_to_move]})
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Staff time off"),
    retrieve=extend_schema(summary="A period of time off"),
    create=extend_schema(summary="Record time off"),
    partial_update=extend_schema(summary="Change time off"),
    destroy=extend_schema(summary="Remove time off"),
)
class TimeOffViewSet(_StaffTimeViewSet):
    policy_resource = "time_off"
    serializer_class = s.TimeOffSerializer
    filterset_class = filters.TimeOffFilter

    def get_queryset(self) -> Any:
        from clinic.models import TimeOff

        return TimeOff.objects.select_related("staff")

    def perform_create(self, serializer: BaseSerializer) -> None:
        data, accept = self._changes(serializer)
        self._changed(serializer, time_off_record(**data, accept_conflicts=accept))

    def perform_update(self, serializer: BaseSerializer) -> None:
        data, accept = self._changes(serializer)
        time_off_id = cast(Any, serializer.instance).pk
        self._changed(serializer, time_off_change(time_off_id=time_off_id, changes=data, accept_conflicts=accept))


# ---------------------------------------------------------------------------------------------
# Treatment sessions


@extend_schema_view(
    list=extend_schema(summary="Treatment sessions (a patient: their own)"),
    retrieve=extend_schema(summary="A treatment session"),
)
class SessionViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions and what happens to them. Therapists have no access: infusions are not theirs."""

    permission_classes = (ActionRoles,)
    filterset_class = filters.SessionFilter
    policy_resource = "sessions"

    def get_queryset(self) -> Any:
        return sessions_visible_to(self.request.user)

    def get_serializer_class(self) -> Any:
        return s.session_serializer_for(self.request.user)

    def _answer(self, session_id: int) -> Response:
        session = self.get_queryset().get(pk=session_id)
        return Response(self.get_serializer(session).data)

    @extend_schema(
        summary="Move a session (its integration window follows)",
        request=s.SessionRescheduleInputSerializer,
        responses={200: s.SessionRescheduleSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        forbidden = () if request.user.has_perm(OVERRIDE_PERMISSION) else ("override_reason",)
        data = _input(request, s.SessionRescheduleInputSerializer, forbidden_fields=forbidden)
        result = session_reschedule(
            session_id=session.pk,
            starts_at=data["starts_at"],
            chair_id=data["chair"].pk if data.get("chair") else None,
            clinician_id=data["clinician"].pk if data.get("clinician") else None,
            override_reason=data.get("override_reason"),
            actor=request.user,
        )
        body = {
            "session": self.get_queryset().get(pk=session.pk),
            "overrides": result.overrides,
            "cancelled_appointments": [a.pk for a in result.cancelled_appointments],
        }
        return Response(s.SessionRescheduleSerializer(body, context={"request": request}).data)

    @extend_schema(summary="Cancel a session", request=s.ReasonInputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        data = _input(request, s.ReasonInputSerializer)
        session_cancel(session_id=session.pk, reason=data["reason"])
        return self._answer(session.pk)

    @extend_schema(summary="Check the patient in (on the session's day)", request=s.CheckInInputSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        data = _input(request, s.CheckInInputSerializer)
        session_check_in(session_id=session.pk, ride_home_confirmed=data["ride_home_confirmed"])
        return self._answer(session.pk)

    @extend_schema(summary="Complete a session: dose and notes (clinicians)", request=s.CompleteInputSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        data = _input(request, s.CompleteInputSerializer)
        session_complete(session_id=session.pk, dose_mg=data["dose_mg"], clinical_notes=data["clinical_notes"])
        return self._answer(session.pk)

    @extend_schema(summary="Mark a no-show (after the start)", request=s.EmptyInputSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        _input(request, s.EmptyInputSerializer)
        session_no_show(session_id=session.pk)
        return self._answer(session.pk)

    @extend_schema(
        summary="Hold a session: not dosed, with the reason (clinicians)", request=s.RequiredReasonInputSerializer
    )
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        data = _input(request, s.RequiredReasonInputSerializer)
        session_hold(session_id=session.pk, reason=data["reason"])
        return self._answer(session.pk)

    @extend_schema(summary="Confirm (or withdraw) the ride home", request=s.RideHomeInputSerializer)
    @action(detail=True, methods=["post"], url_path="ride-home")
    def ride_home(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        data = _input(request, s.RideHomeInputSerializer)
        session_ride_home_confirm(session_id=session.pk, confirmed=data["confirmed"])
        return self._answer(session.pk)

    @extend_schema(
        summary="Ask the front desk to move this session (patients)",
        request=s.RescheduleRequestInputSerializer,
        responses={201: RescheduleRequestSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="request-reschedule")
    def request_reschedule(self, request: Request, pk: str) -> Response:
        session = self.get_object()
        data = _input(request, s.RescheduleRequestInputSerializer)
        created = reschedule_request_create(
            patient_id=session.patient_id, session_id=session.pk, message=data["message"]
        )
        return Response(RescheduleRequestSerializer(created).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Availability


class AvailabilityView(AuditedViewMixin, generics.GenericAPIView):
    """Free chair-and-clinician stretches, long enough for one session of the protocol."""

    permission_classes = (ActionRoles,)
    policy_resource = "availability"
    serializer_class = s.FreeBlockSerializer
    filter_backends = ()

    @extend_schema(
        summary="Free chair-and-clinician blocks between two dates for a protocol",
        parameters=[s.AvailabilityQuerySerializer],
        responses={200: s.FreeBlockSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        query = s.AvailabilityQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        blocks = availability_between(
            first=data["start"],
            last=data["end"],
            session_length=dt.timedelta(minutes=data["protocol"].session_minutes),
            chair_id=data["chair"].pk if data.get("chair") else None,
            clinician_id=data["clinician"].pk if data.get("clinician") else None,
            patient_id=data["patient"].pk if data.get("patient") else None,
            now=timezone.now(),
        )
        if data.get("patient"):
            # The free times of a named patient are a read of that patient's schedule.
            self.audit_touch(patient_ids=[data["patient"].pk])
        page = self.paginate_queryset(cast(Any, blocks))
        return self.get_paginated_response(s.FreeBlockSerializer(page, many=True).data)


# ---------------------------------------------------------------------------------------------
# Integration windows and appointments


@extend_schema_view(
    list=extend_schema(summary="Integration windows, by state, therapist and date (a patient: their own)"),
    retrieve=extend_schema(summary="An integration window"),
)
class WindowViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.WindowSerializer
    filterset_class = filters.WindowFilter
    policy_resource = "windows"

    def get_queryset(self) -> Any:
        return windows_visible_to(self.request.user)

    @extend_schema(
        summary="A therapist's free slots inside the window",
        parameters=[s.WindowFreeSlotsQuerySerializer],
        responses={200: s.FreeSlotSerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], url_path="free-slots", filterset_class=None, pagination_class=None)
    def free_slots(self, request: Request, pk: str) -> Response:
        window: IntegrationWindow = self.get_object()
        query = s.WindowFreeSlotsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        therapist = query.validated_data.get("therapist")
        if therapist is None and _is_therapist_only(request):
            therapist = _staff_of(request)
        slots = window_free_slots(window, therapist_id=therapist.pk if therapist else None, now=timezone.now())
        return Response(s.FreeSlotSerializer(slots, many=True).data)

    @extend_schema(
        summary="Book an integration appointment in the window",
        request=s.AppointmentBookInputSerializer,
        responses={201: s.AppointmentSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="appointments", filterset_class=None)
    def book(self, request: Request, pk: str) -> Response:
        window: IntegrationWindow = self.get_object()
        therapist_only = _is_therapist_only(request)
        data = _input(
            request, s.AppointmentBookInputSerializer, forbidden_fields=("therapist",) if therapist_only else ()
        )
        therapist = _staff_of(request) if therapist_only else data.get("therapist")
        if therapist is None:
            raise InvalidInput("Name the therapist.", field="therapist", rule="required")
        appointment = window_appointment_book(
            window_id=window.pk,
            therapist_id=therapist.pk,
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            actor=request.user,
        )
        return Response(s.AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Integration appointments (a therapist or a patient: their own)"),
    retrieve=extend_schema(summary="An integration appointment"),
)
class AppointmentViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.AppointmentSerializer
    filterset_class = filters.AppointmentFilter
    policy_resource = "appointments"

    def get_queryset(self) -> Any:
        return appointments_visible_to(self.request.user)

    def _answer(self, appointment_id: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=appointment_id)).data)

    @extend_schema(summary="Move an appointment inside its window", request=s.AppointmentMoveInputSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        therapist_only = _is_therapist_only(request)
        data = _input(
            request, s.AppointmentMoveInputSerializer, forbidden_fields=("therapist",) if therapist_only else ()
        )
        integration_appointment_move(
            appointment_id=appointment.pk,
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            therapist_id=data["therapist"].pk if data.get("therapist") else None,
        )
        return self._answer(appointment.pk)

    @extend_schema(summary="Cancel an appointment", request=s.ReasonInputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        data = _input(request, s.ReasonInputSerializer)
        integration_appointment_cancel(appointment_id=appointment.pk, reason=data["reason"])
        return self._answer(appointment.pk)

    @extend_schema(summary="Record whether the patient attended", request=s.AppointmentRecordInputSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        data = _input(request, s.AppointmentRecordInputSerializer)
        integration_appointment_record(appointment_id=appointment.pk, attended=data["attended"])
        return self._answer(appointment.pk)
