"""Version 1 of the API: each app contributes its own routes."""

from django.urls import include, path

from ketaminecare.api.auth import LogoutView, MeView, TokenObtainView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", MeView.as_view(), name="auth-me"),
    path("", include("courses.api.urls")),
    path("", include("sessions.api.urls")),
    path("", include("sessions.api.calendar_urls")),
]
