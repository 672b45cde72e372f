"""Endpoints for patients, screenings, protocols, courses (propose, book, cancel, maintenance),
reschedule requests and a patient's own reminder preferences, one module per resource family."""

from api.courses.views.courses import CourseFilter, CourseViewSet
from api.courses.views.patients import PatientFilter, PatientViewSet, PreferencesView
from api.courses.views.requests import RescheduleRequestFilter, RescheduleRequestViewSet
from api.courses.views.screenings import ProtocolViewSet, ScreeningFilter, ScreeningViewSet

__all__ = [
    "CourseFilter",
    "CourseViewSet",
    "PatientFilter",
    "PatientViewSet",
    "PreferencesView",
    "ProtocolViewSet",
    "RescheduleRequestFilter",
    "RescheduleRequestViewSet",
    "ScreeningFilter",
    "ScreeningViewSet",
]
