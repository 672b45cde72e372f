"""gunicorn's access log, with secrets in paths masked.

A calendar feed's URL is its credential (``/api/v1/feeds/<token>.ics``): the token must not be
written to logs that many people and systems read.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ketaminecare.logging import mask_path


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r"):
            if isinstance(atoms.get(key), str):
                atoms[key] = mask_path(atoms[key])
        return atoms
