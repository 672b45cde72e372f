from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from api.measures import views

router = SimpleRouter()
router.register("measures", views.MeasureViewSet, basename="measure")
router.register("measure-alerts", views.MeasureAlertViewSet, basename="measure-alert")

urlpatterns: list[URLPattern | URLResolver] = [
    # A course's progress on the measures: kept with the measures, read through the course's scope.
    path("courses/<int:pk>/progress/", views.CourseProgressView.as_view(), name="course-progress"),
    *router.urls,
]
