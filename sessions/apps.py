from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _ensure_roles(sender: Any, **kwargs: Any) -> None:
    from courses.services import roles_ensure

    roles_ensure()


class TreatmentSessionsConfig(AppConfig):
    # django.contrib.sessions owns the label "sessions".
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Calendar: sessions and integration"

    def ready(self) -> None:
        # Make the role groups once every app's permissions exist (post_migrate is sent app by app,
        # in INSTALLED_APPS order, and only for apps with models: so after the last of those),
        # wherever the schema does: every database, every test run.
        last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
        post_migrate.connect(_ensure_roles, sender=last, dispatch_uid="treatment_sessions_roles_ensure")
