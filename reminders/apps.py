from django.apps import AppConfig

from ketaminecare import health


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"

    def ready(self) -> None:
        # The outbox follows the calendar through the session services' signals. Imported here,
        # not at the top: the receivers need the models, which exist only once apps are ready.
        from reminders import receivers  # noqa: PLC0415 (apps must be ready: see above)
        from reminders.monitoring import outbox_health, register_collector  # noqa: PLC0415 (the same)

        receivers.connect()
        health.register("reminders", outbox_health)
        register_collector()
