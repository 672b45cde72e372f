"""The API's JSON parser, bounded: a body too large is 413 and one nested too deep is 400, never a
RecursionError (500) or a read without end.

DRF hands a JSON parser the raw request stream, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never
applies to it; a body sent without a Content-Length (chunked) would be read whatever its size.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json
from typing_extensions import override

MSG_TOO_DEEP = "The JSON body is nested too deep."


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"
    default_detail = "The request body is too large."


class BoundedJSONParser(JSONParser):
    @override
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.MAX_REQUEST_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"The request body is larger than the {limit} bytes this service accepts.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(raw.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except RecursionError as exc:
            # Python's decoder recurses once per level and gives up near the interpreter's limit;
            # nothing the API takes is nested more than a few levels.
            raise ParseError(MSG_TOO_DEEP) from exc
        except ValueError as exc:  # UnicodeDecodeError included
            raise ParseError(f"JSON parse error - {exc}") from exc
