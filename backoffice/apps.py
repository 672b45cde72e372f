from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The clinic's back office: the admin site over every app, and the operators' commands.

    A face, like the API: it stands above every domain app and asks the one access policy.
    """

    name = "backoffice"
    verbose_name = "Back office"
