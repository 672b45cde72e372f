"""The OpenAPI schema: every operation documents the one error shape for the 4xx it can answer.

Views may still name their error responses in ``extend_schema``; what they leave out is added
here from what the view is: any request can fail authentication (401) or validation (400), a
view with permissions can refuse (403, unless they or the access policy let anyone through), an
object path or a paged list can miss (404), a write can conflict with the clinic's state (409) or
come in a media type it does not read (415), and a throttled view can answer 429.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from ketaminecare.access.operations import ANYONE, roles_of
from ketaminecare.api.permissions import policy_action_of
from ketaminecare.api.serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Bad input: the field or rule at fault is named.",
    "401": "Not authenticated, or the credentials are invalid.",
    "403": "Your role may not do this.",
    "404": "No such object, or not one you may see.",
    "409": "The clinic's state refuses it: a rule, a conflict or a status.",
    "415": "The body's media type is not one this endpoint reads.",
    "429": "Too many attempts; wait and try again.",
}

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Explicit error responses for ``extend_schema(responses=...)``."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[str(code)]) for code in codes}


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401"]
        if self._can_refuse():
            codes.append("403")
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes.append("409")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if getattr(self.view, "throttle_classes", ()) and getattr(self.view, "throttle_scope", None):
            codes.append("429")
        return codes

    def _can_refuse(self) -> bool:
        """Whether the view's permissions can answer 403: not when they let anyone through, by
        AllowAny or by the policy opening the operation to anyone."""
        permissions = getattr(self.view, "permission_classes", ())
        if not permissions:
            return True
        if all(issubclass(p, AllowAny) for p in permissions):
            return False
        resource = getattr(self.view, "policy_resource", None)
        allowed = roles_of(resource, policy_action_of(self.view, self.method)) if resource else None
        return not (allowed is not None and ANYONE in allowed)

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code, direction=direction
                )
        return responses
