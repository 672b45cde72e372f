from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Web pages"

    def ready(self) -> None:
        checks.register(front_end_packages_installed, checks.Tags.staticfiles)


def front_end_packages_installed(**_: Any) -> list[checks.CheckMessage]:
    """The pages load their scripts from node_modules/ (through the static files): say so when npm
    has not installed them, instead of serving pages whose calendar never draws."""
    missing = [str(folder) for _prefix, folder in settings.FRONT_END_PACKAGES if not folder.is_dir()]
    if not missing:
        return []
    return [
        checks.Warning(
            "The web pages' front-end packages are not installed: " + ", ".join(missing),
            hint="Run `npm ci` in the project's root (bin/demo and bin/test do it).",
            id="web.W001",
        )
    ]
