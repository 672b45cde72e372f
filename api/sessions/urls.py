from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from api.sessions import views

router = SimpleRouter()
router.register("chairs", views.ChairViewSet, basename="chair")
router.register("staff", views.StaffMemberViewSet, basename="staff")
router.register("working-hours", views.WorkingHoursViewSet, basename="working-hours")
router.register("time-off", views.TimeOffViewSet, basename="time-off")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("windows", views.WindowViewSet, basename="window")
router.register("appointments", views.AppointmentViewSet, basename="appointment")

urlpatterns: list[URLPattern | URLResolver] = [
    path("availability/", views.AvailabilityView.as_view(), name="availability"),
    *router.urls,
]
