"""gunicorn's access log, with secrets in paths masked and the trusted client address.

A calendar feed's URL is its credential (``/api/v1/feeds/<token>.ics``): the token must not be
written to logs that many people and systems read. The ``remote`` of a line (``%(h)s``) is the
client address as ketaminecare/client.py decides it, the same the throttle and the audit trail use.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from ketaminecare.client import address_from_meta
from ketaminecare.logging import mask_path


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r"):
            if isinstance(atoms.get(key), str):
                atoms[key] = mask_path(atoms[key])
        atoms["h"] = address_from_meta(environ) or "-"
        return atoms
