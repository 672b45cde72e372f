"""Endpoints of chairs, staff members and their time (working hours, time off)."""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from api.sessions import filters
from api.sessions import serializers as s
from audit.hooks import AuditedViewMixin
from clinic.models import Chair, StaffMember, TimeOff, WorkingHours
from ketaminecare.api.permissions import ActionRoles
from sessions.selectors import (
    staff_visible,
)
from sessions.services.staff_bookings import bookings_outside, bookings_outside_availability
from sessions.services.staff_time import (
    StaffTimeChange,
    time_off_change,
    time_off_record,
    working_hours_add,
    working_hours_change,
    working_hours_remove,
)


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
    def bookings_to_move(self, _request: Request, **_: Any) -> Response:
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
    def all_bookings_to_move(self, _request: Request) -> Response:
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
        return TimeOff.objects.select_related("staff")

    def perform_create(self, serializer: BaseSerializer) -> None:
        data, accept = self._changes(serializer)
        self._changed(serializer, time_off_record(**data, accept_conflicts=accept))

    def perform_update(self, serializer: BaseSerializer) -> None:
        data, accept = self._changes(serializer)
        time_off_id = cast(Any, serializer.instance).pk
        self._changed(serializer, time_off_change(time_off_id=time_off_id, changes=data, accept_conflicts=accept))
