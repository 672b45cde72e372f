"""Version 1 of the API: each app contributes its own routes."""

from django.urls import include, path

from ketaminecare.api.root import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("accounts.api.urls")),
    path("", include("courses.api.urls")),
    path("", include("sessions.api.urls")),
    path("", include("calendars.api.urls")),
]
