"""The runtime environment (requirements.txt alone) runs every part of the service.

Production installs requirements.txt and nothing else; a module that imports a package only the
development set brings (pytest pulls in ``packaging``, for one) works in the tests and fails in
production. Here a fresh interpreter of the runtime environment, with the production settings,
imports every module of the service, loads the broker's transport and runs the deploy checks.
"""

from __future__ import annotations

import os
import secrets
import subprocess

from tests.runtime import ROOT, runtime_bin

PROBE = """
import importlib, pkgutil, sys
import django
django.setup()
for app in ("ketaminecare", "audit", "courses", "sessions"):
    package = importlib.import_module(app)
    for module in pkgutil.walk_packages(package.__path__, f"{app}."):
        if ".migrations." not in module.name and not module.name.endswith(".migrations"):
            importlib.import_module(module.name)
from ketaminecare.celery import app
app.connection_for_write().transport  # loads kombu's transport for the broker URL
import gunicorn.app.wsgiapp
print("imported")
"""


def _runtime_env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "ketaminecare.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
        "ALLOWED_HOSTS": "clinic.example",
    }


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (a fixed command line)
        [runtime_bin("python"), *args], cwd=ROOT, env=_runtime_env(), capture_output=True, text=True, timeout=120
    )


def test_the_runtime_environment_imports_every_module_of_the_service_with_the_redis_broker() -> None:
    result = _run("-c", PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("imported")


def test_the_runtime_environment_holds_none_of_the_development_tools() -> None:
    result = _run("-c", "import pytest")
    assert result.returncode != 0
    assert "No module named 'pytest'" in result.stderr


def test_the_deploy_checks_pass_in_the_runtime_environment() -> None:
    result = _run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def _settings_probe(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in _runtime_env().items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(  # noqa: S603 (a fixed command line)
        [
            runtime_bin("python"),
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_secret_key_the_service_refuses_to_start_unless_debug_is_explicitly_on() -> None:
    refused = _settings_probe()
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr
    assert _settings_probe(DEBUG="0").returncode != 0
    assert _settings_probe(DEBUG="1").stdout.strip() == "True"


def test_debug_is_off_unless_it_is_asked_for() -> None:
    assert _settings_probe(SECRET_KEY=secrets.token_urlsafe(50)).stdout.strip() == "False"
