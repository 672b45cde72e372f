from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from api.courses import views

router = SimpleRouter()
router.register("patients", views.PatientViewSet, basename="patient")
router.register("screenings", views.ScreeningViewSet, basename="screening")
router.register("protocols", views.ProtocolViewSet, basename="protocol")
router.register("courses", views.CourseViewSet, basename="course")
router.register("reschedule-requests", views.RescheduleRequestViewSet, basename="reschedule-request")

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/preferences/", views.PreferencesView.as_view(), name="me-preferences"),
    *router.urls,
]
