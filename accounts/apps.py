from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Sign-in and API tokens"

    def ready(self) -> None:
        # Importing connects the revocation receivers.
        from accounts import signals  # noqa: PLC0415 (they need the models: only once apps are ready)

        # Make the role groups, with what the access policy grants each, once every app's
        # permissions exist: post_migrate is sent app by app, in INSTALLED_APPS order, and only for
        # apps with models, so after the last of those. Wherever the schema is: every database,
        # every test run.
        last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
        post_migrate.connect(signals.roles_ensure_after_migrate, sender=last, dispatch_uid="accounts_roles_ensure")
