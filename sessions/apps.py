from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(sender: Any, **kwargs: Any) -> None:
    from courses.services import roles_ensure

    roles_ensure()


class TreatmentSessionsConfig(AppConfig):
    # django.contrib.sessions owns the label "sessions".
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = "Calendar: chairs, staff, sessions and integration"

    def ready(self) -> None:
        # After this app's permissions exist (it migrates after courses), make the role groups,
        # so they exist wherever the schema does: every database, every test run.
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="treatment_sessions_roles_ensure")
        # The reminders' admin lives beside their models.
        # The reminder outbox follows the calendar through the services' signals. Imported here,
        # not at the top: the receivers need the models, which exist only once apps are ready.
        from sessions import (
            reminder_admin,  # noqa: F401
            reminder_receivers,
        )

        reminder_receivers.connect()
