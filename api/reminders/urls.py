from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from api.reminders import views

router = SimpleRouter()
router.register("reminders", views.ReminderViewSet, basename="reminder")
router.register("sms/inbox", views.InboundMessageViewSet, basename="sms-inbox")

urlpatterns: list[URLPattern | URLResolver] = [
    path("sms/inbound/", views.SmsInboundWebhook.as_view(), name="sms-inbound"),
    path("sms/status/", views.SmsStatusWebhook.as_view(), name="sms-status"),
    *router.urls,
]
