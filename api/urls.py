"""Version 1 of the API: each app contributes its own routes."""

from django.urls import include, path

from ketaminecare.api.root import ApiRootView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("api.accounts.urls")),
    path("", include("api.courses.urls")),
    path("", include("api.sessions.urls")),
    path("", include("api.calendars.urls")),
    path("", include("api.measures.urls")),
    path("", include("api.reminders.urls")),
]
