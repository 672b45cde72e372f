"""Routes of the calendar and the calendar feeds (included under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path, re_path

from api.calendars.views import CalendarView, FeedICalView, FeedListView, FeedRevokeView, FeedRotateView

urlpatterns: list[URLPattern | URLResolver] = [
    path("calendar/", CalendarView.as_view(), name="calendar"),
    path("feeds/", FeedListView.as_view(), name="calendar-feed-list"),
    path("feeds/<int:pk>/rotate/", FeedRotateView.as_view(), name="calendar-feed-rotate"),
    path("feeds/<int:pk>/revoke/", FeedRevokeView.as_view(), name="calendar-feed-revoke"),
    re_path(r"^feeds/(?P<token>[A-Za-z0-9_-]{16,128})\.ics$", FeedICalView.as_view(), name="calendar-feed-ics"),
]
