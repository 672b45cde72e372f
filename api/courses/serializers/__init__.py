"""Serializers of patients, screenings, protocols, courses, proposals and reschedule requests, one
module per resource family."""

from api.courses.serializers.courses import (
    MAX_SESSIONS,
    CourseBookInputSerializer,
    CourseCancelInputSerializer,
    CourseSerializer,
    CourseSessionSerializer,
    MaintenanceInputSerializer,
    MaintenanceSerializer,
    PlanSerializer,
    PreferencesInputSerializer,
    ProblemSerializer,
    ProposalInputSerializer,
    ProposalSerializer,
    ProposedSessionSerializer,
    SessionRequestSerializer,
)
from api.courses.serializers.patients import (
    PatientCreateSerializer,
    PatientSerializer,
    PreferencesSerializer,
    ProtocolSerializer,
    ScreeningOutcomeSerializer,
    ScreeningSerializer,
)
from api.courses.serializers.requests import (
    RESCHEDULE_OUTCOMES,
    RescheduleRequestHandleInputSerializer,
    RescheduleRequestSerializer,
)

__all__ = [
    "MAX_SESSIONS",
    "RESCHEDULE_OUTCOMES",
    "CourseBookInputSerializer",
    "CourseCancelInputSerializer",
    "CourseSerializer",
    "CourseSessionSerializer",
    "MaintenanceInputSerializer",
    "MaintenanceSerializer",
    "PatientCreateSerializer",
    "PatientSerializer",
    "PlanSerializer",
    "PreferencesInputSerializer",
    "PreferencesSerializer",
    "ProblemSerializer",
    "ProposalInputSerializer",
    "ProposalSerializer",
    "ProposedSessionSerializer",
    "ProtocolSerializer",
    "RescheduleRequestHandleInputSerializer",
    "RescheduleRequestSerializer",
    "ScreeningOutcomeSerializer",
    "ScreeningSerializer",
    "SessionRequestSerializer",
]
