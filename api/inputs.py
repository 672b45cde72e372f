"""What every view of the API does first with a body: validate it with a serializer (400 naming
the field) and hand the service the validated data."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer


def validated_input(request: Request, serializer_class: type[BaseSerializer], **context: Any) -> dict[str, Any]:
    """The request's body validated by ``serializer_class`` (given the request and ``context``)."""
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
