"""The runtime environment: requirements.txt alone, as production installs it (bin/test builds it).

Every process a test starts as production would (gunicorn, Celery workers, beat) runs from here,
never from the development environment the tests themselves run in, so that a dependency missing
from requirements.txt fails the tests as it would fail production.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def runtime_bin(command: str) -> str:
    """The path of ``command`` in the runtime environment; fails when the environment is missing."""
    venv = Path(os.environ.get("KETAMINECARE_RUNTIME_VENV", ROOT / ".venv-runtime"))
    path = venv / "bin" / command
    if not path.exists():
        raise RuntimeError(
            f"{path} is missing: bin/test builds the runtime environment from requirements.txt "
            "(or set KETAMINECARE_RUNTIME_VENV to one)"
        )
    return str(path)
