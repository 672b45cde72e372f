"""The calendar (JSON) and the iCalendar subscription feeds, with the endpoints that manage feeds.

Both are renderers of the one calendar reader (calendars.reader): the calendar answers thousands
of events in a few queries as plain dicts that orjson writes, so no serializer runs per event
(CalendarSerializer only documents them).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.calendars.query import calendar_query
from api.calendars.serializers import CalendarSerializer, FeedCreateSerializer, FeedSerializer, IssuedFeedSerializer
from audit.hooks import AuditedViewMixin
from audit.models import AuditEvent
from calendars.events import EVENT_TYPES, MAX_RANGE
from calendars.feeds import feed_ical, feed_owner
from calendars.json import events_json, link_prefixes
from calendars.reader import calendar_read
from calendars.selectors import feed_for_token, feeds_manageable_by
from calendars.services import IssuedFeed, feed_issue, feed_owner_for, feed_revoke, feed_rotate
from calendars.visibility import calendar_viewer
from ketaminecare.api.permissions import ActionRoles
from ketaminecare.api.schema import error_responses
from ketaminecare.errors import NotAllowed, NotFound
from ketaminecare.rules import Rule

MSG_NO_CALENDAR_ROLE = "Your role has no calendar."


class ORJSONRenderer(BaseRenderer):
    """JSON through orjson: aware datetimes are written in ISO 8601 with their offset."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, *_: Any, **__: Any) -> bytes:
        # DRF also passes the accepted media type and its context: neither changes the JSON.
        if data is None:
            return b""
        return orjson.dumps(data, default=str)


def _ids_parameter(name: str, carried_by: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        OpenApiTypes.INT,
        many=True,
        explode=True,
        description=f"Only {carried_by} with one of these {name} ids (repeat the parameter or separate by commas); "
        "closures stay.",
    )


class CalendarView(AuditedViewMixin, APIView):
    """Every kind of event between two instants, in one list, as the caller's role may see it."""

    permission_classes = (ActionRoles,)
    policy_resource = "calendar"
    renderer_classes = (ORJSONRenderer, BrowsableAPIRenderer)

    @extend_schema(
        operation_id="calendar",
        summary="The calendar between two instants",
        description=(
            "Treatment sessions, maintenance sessions, integration windows, integration appointments and clinic "
            "closures overlapping [start, end), by start time, with times on the clinic's wall clock (ISO 8601 "
            "with offset). The range is required, end after start, at most "
            f"{MAX_RANGE.days} days. Front desk, clinicians and administrators see everything; therapists see "
            "the integration windows, the appointments they hold and the clinic's closures, no sessions; a "
            "patient sees only their own sessions, windows and appointments and the clinic's closures (naming "
            "another patient answers an empty list). Not paged: the range bounds the list."
        ),
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=True, description="ISO 8601 with offset."),
            OpenApiParameter(
                "end", OpenApiTypes.DATETIME, required=True, description="ISO 8601 with offset; after start."
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                enum=EVENT_TYPES,
                description="Only these kinds of event (repeat the parameter or separate by commas).",
            ),
            _ids_parameter("chair", "sessions"),
            _ids_parameter("clinician", "sessions"),
            _ids_parameter("therapist", "integration appointments"),
            _ids_parameter("patient", "sessions, windows and appointments"),
            OpenApiParameter(
                "include_cancelled",
                OpenApiTypes.BOOL,
                description="Staff only: include cancelled sessions, windows and appointments.",
            ),
        ],
        responses={200: CalendarSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = calendar_query(request.query_params)
        viewer = calendar_viewer(request.user)
        if viewer is None:
            raise NotAllowed(MSG_NO_CALENDAR_ROLE, rule=Rule.CALENDAR_ROLE)
        events = events_json(calendar_read(query=query, viewer=viewer), links=link_prefixes(request.build_absolute_uri))
        # The plain dicts name each event's patient: the trail records every patient shown.
        self.audit_touch(*events)
        zone = settings.TIME_ZONE
        return Response(
            {
                "start": timezone.localtime(query.start),
                "end": timezone.localtime(query.end),
                "time_zone": zone,
                "count": len(events),
                "events": events,
            }
        )


# ---------------------------------------------------------------------------------------------
# Feeds


def _issued(request: Request, issued: IssuedFeed) -> dict[str, Any]:
    feed = issued.feed
    return {
        **FeedSerializer(feed).data,
        "token": issued.token,
        "url": request.build_absolute_uri(reverse("calendar-feed-ics", kwargs={"token": issued.token})),
    }


class FeedListView(ListAPIView):
    """The feeds you may manage (never their tokens), and a new feed (its token shown once)."""

    permission_classes = (ActionRoles,)
    policy_resource = "feeds"
    serializer_class = FeedSerializer
    filter_backends = ()

    def get_queryset(self) -> Any:
        return feeds_manageable_by(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="calendar_feed_list",
        summary="Calendar feeds you may manage",
        description="Front desk and administrators see every feed; anyone else their own.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="calendar_feed_create",
        summary="Make a calendar feed (its secret URL is shown once)",
        description=(
            "Without a body: your own feed. Front desk and administrators may name any staff member or patient. "
            "The owner's live feed, if any, is revoked: one live URL at a time."
        ),
        request=FeedCreateSerializer,
        responses={201: IssuedFeedSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        serializer = FeedCreateSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        owner = feed_owner_for(
            actor=request.user,
            staff_id=serializer.validated_data.get("staff"),
            patient_id=serializer.validated_data.get("patient"),
        )
        return Response(_issued(request, feed_issue(owner=owner)), status=status.HTTP_201_CREATED)


class FeedRotateView(APIView):
    permission_classes = (ActionRoles,)
    policy_resource = "feeds.rotate"

    @extend_schema(
        operation_id="calendar_feed_rotate",
        summary="A new secret URL for a feed; the old one answers 404 from now on",
        request=None,
        responses={201: IssuedFeedSerializer, **error_responses(401, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        feed = get_object_or_404(feeds_manageable_by(request.user), pk=pk)
        return Response(_issued(request, feed_rotate(feed=feed)), status=status.HTTP_201_CREATED)


class FeedRevokeView(APIView):
    permission_classes = (ActionRoles,)
    policy_resource = "feeds.revoke"

    @extend_schema(
        operation_id="calendar_feed_revoke",
        summary="Revoke a feed: its URL answers 404 from now on",
        request=None,
        responses={200: FeedSerializer, **error_responses(401, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        feed = get_object_or_404(feeds_manageable_by(request.user).only("id"), pk=pk)
        return Response(FeedSerializer(feed_revoke(feed_id=feed.pk)).data)


class FeedICalView(AuditedViewMixin, APIView):
    """The iCalendar feed itself: the secret token in the URL is the only credential."""

    audit_channel = AuditEvent.Channel.FEED

    authentication_classes = ()
    permission_classes = (ActionRoles,)
    policy_resource = "feeds.ics"

    @extend_schema(
        operation_id="calendar_feed_ics",
        summary="An iCalendar (RFC 5545) subscription feed",
        description=(
            "No other authentication: the token is the credential. A revoked or unknown token answers 404. "
            "Stable UIDs and a SEQUENCE that grows when an item moves; cancelled items as STATUS:CANCELLED."
        ),
        auth=[],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="RFC 5545 text."),
            **error_responses(404),
        },
    )
    def get(self, _request: Request, token: str) -> HttpResponse:
        feed = feed_for_token(token)
        if feed is None:
            raise NotFound("No such calendar feed.", rule=Rule.FEED_EXISTS)
        shown: set[int] = set()
        body = feed_ical(feed_owner(feed), now=timezone.now(), patients=shown)
        # A patient's own feed, or a staff feed showing patients' initials and times: one event
        # naming the feed and every patient it showed (none: nothing recorded).
        self.audit_touch(feed, patient_ids=shown)
        response = HttpResponse(body.encode(), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="calendar.ics"'
        return response
