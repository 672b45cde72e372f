"""Endpoints of courses: propose, book, cancel, a maintenance series."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.courses import serializers as s
from api.inputs import validated_input
from audit.hooks import AuditedViewMixin
from courses.models import Course
from ketaminecare.access.operations import may
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.api.serializers import IdFilter
from measures.selectors import course_progress
from sessions.scheduling import Preferences
from sessions.selectors import courses_visible_to
from sessions.services.booking import course_book_confirmed, course_plan_and_book
from sessions.services.lifecycle import course_cancel
from sessions.services.maintenance import maintenance_series_book
from sessions.services.proposal import SessionRequest, course_propose


def _preferences(data: dict[str, Any] | None) -> Preferences:
    data = data or {}
    return Preferences(
        weekdays=frozenset(int(d) for d in data["weekdays"]) if data.get("weekdays") else None,
        earliest=data.get("earliest"),
        latest=data.get("latest"),
        chair_id=data["chair"].pk if data.get("chair") else None,
        clinician_id=data["clinician"].pk if data.get("clinician") else None,
        session_count=data.get("session_count"),
    )


class CourseFilter(filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    protocol = IdFilter(field_name="protocol_id")
    status = filters.MultipleChoiceFilter(choices=Course.Status.choices)

    class Meta:
        model = Course
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Courses with their progress (a patient: their own)"),
    retrieve=extend_schema(summary="A course with its sessions and windows"),
)
class CourseViewSet(AuditedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = (ActionRoles,)
    serializer_class = s.CourseSerializer
    filterset_class = CourseFilter
    policy_resource = "courses"

    def get_queryset(self) -> Any:
        return courses_visible_to(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One course, with its scores against baseline for the roles that read outcome measures."""
        course = self.get_object()
        scores = {}
        if may(request.user, "course_progress.get"):
            progress = course_progress(course)
            self.audit_touch(*(p.latest for p in progress))
            scores[course.pk] = progress
        context = {**self.get_serializer_context(), "scores": scores}
        return Response(s.CourseSerializer(course, context=context).data)

    @extend_schema(
        summary="Preview a course: where each session would go (writes nothing)",
        request=s.ProposalInputSerializer,
        responses={200: s.ProposalSerializer, **error_responses(400, 403, 409)},
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def propose(self, request: Request) -> Response:
        data = validated_input(request, s.ProposalInputSerializer)
        self.audit_touch(data["patient"])
        proposal = course_propose(
            patient=data["patient"],
            protocol=data["protocol"],
            first_date=data["first_date"],
            preferences=_preferences(data.get("preferences")),
        )
        return Response(s.ProposalSerializer(proposal).data)

    @extend_schema(
        summary="Book a course: the proposal's sessions, or plan from a first date",
        request=s.CourseBookInputSerializer,
        responses={201: s.CourseSerializer, **error_responses(400, 403, 409)},
    )
    def create(self, request: Request) -> Response:
        data = validated_input(request, s.CourseBookInputSerializer)
        preferences = _preferences(data.get("preferences"))
        if "sessions" in data:
            course = course_book_confirmed(
                patient=data["patient"],
                protocol=data["protocol"],
                sessions=[SessionRequest(r["starts_at"], r["chair"].pk, r["clinician"].pk) for r in data["sessions"]],
                preferences=preferences,
                actor=request.user,
            )
        else:
            course = course_plan_and_book(
                patient=data["patient"],
                protocol=data["protocol"],
                first_date=data["first_date"],
                preferences=preferences,
                actor=request.user,
            )
        self.audit_touch(course)
        body = s.CourseSerializer(self.get_queryset().get(pk=course.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a course and its sessions still to come",
        request=s.CourseCancelInputSerializer,
        responses={200: s.CourseSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request: Request, **_: Any) -> Response:
        course = self.get_object()
        data = validated_input(request, s.CourseCancelInputSerializer)
        course_cancel(course_id=course.pk, reason=data["reason"], actor=request.user)
        return Response(s.CourseSerializer(self.get_queryset().get(pk=course.pk)).data)

    @extend_schema(
        summary="Book a maintenance series (one row per session, on the clinic's wall clock)",
        request=s.MaintenanceInputSerializer,
        responses={201: s.MaintenanceSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def maintenance(self, request: Request, **_: Any) -> Response:
        course = self.get_object()
        data = validated_input(request, s.MaintenanceInputSerializer)
        booked = maintenance_series_book(
            course_id=course.pk,
            first_starts_at=data["first_starts_at"],
            chair_id=data["chair"].pk,
            clinician_id=data["clinician"].pk,
            interval_days=data.get("interval_days"),
            rule=data.get("rule"),
            count=data.get("count"),
            until=data.get("until"),
            actor=request.user,
        )
        return Response(s.MaintenanceSerializer({"sessions": booked}).data, status=status.HTTP_201_CREATED)
