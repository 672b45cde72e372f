"""gunicorn's own error answers (a request line past its limit, malformed headers) in the API's
JSON error shape instead of its HTML page.

gunicorn answers these itself, before the application sees the request, through
``gunicorn.util.write_error``; ``install()`` (called from gunicorn.conf.py) replaces that one
function. gunicorn's message is left out of the body: it can quote the request line, and with it
a calendar feed's secret URL.
"""

from __future__ import annotations

import json
from typing import Any

from gunicorn import util

from ketaminecare.rules import Rule

ANSWERS = {
    400: ("invalid_input", "The request is malformed.", None),
    403: ("permission_denied", "The request is refused.", None),
    414: ("uri_too_long", "The URL is longer than this service accepts.", Rule.MAX_URL_LENGTH),
    417: ("expectation_failed", "The Expect header cannot be met.", None),
    431: ("headers_too_large", "The request's headers are too many or too large.", Rule.MAX_HEADER_SIZE),
    500: ("server_error", "The server failed to answer.", None),
    501: ("not_implemented", "The request uses a transfer coding this service does not take.", None),
}


def json_error(status_int: int) -> bytes:
    code, message, rule = ANSWERS.get(status_int, ("error", "The request failed.", None))
    body: dict[str, Any] = {"code": code, "message": message}
    if rule:
        body["rule"] = rule
    return json.dumps(body).encode()


# gunicorn's own signature: it calls util.write_error(sock, status_int, reason, mesg); the message is
# left out of the answer on purpose (the JSON body says what went wrong in this service's words).
def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:  # noqa: ARG001
    body = json_error(status_int)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


def install() -> None:
    util.write_error = write_json_error
