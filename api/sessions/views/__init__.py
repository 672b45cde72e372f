"""The calendar's endpoints, one module per resource family: chairs and staff time, sessions and
their actions, availability, integration windows and appointments. Each view validates, calls one
service or selector, and serializes; who may call it is the access policy's operations table for
the view's ``policy_resource``, what they may see is the selector (the records' scope)."""

from api.sessions.views.availability import AvailabilityView
from api.sessions.views.integration import AppointmentViewSet, WindowViewSet
from api.sessions.views.sessions import SessionViewSet
from api.sessions.views.staff import ChairViewSet, StaffMemberViewSet, TimeOffViewSet, WorkingHoursViewSet

__all__ = [
    "AppointmentViewSet",
    "AvailabilityView",
    "ChairViewSet",
    "SessionViewSet",
    "StaffMemberViewSet",
    "TimeOffViewSet",
    "WindowViewSet",
    "WorkingHoursViewSet",
]
