from django.apps import AppConfig


class TreatmentSessionsConfig(AppConfig):
    # django.contrib.sessions owns the label "sessions".
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Calendar: sessions and integration"
