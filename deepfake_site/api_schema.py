"""The OpenAPI generator: drf-spectacular plus our shared error answers.

Separate from api_common.py: importing drf-spectacular loads DRF's generic views, which import
the pagination class named in settings (a cycle if both lived in one module).
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from .api_common import ErrorSerializer

ERRORS = {
    "400": "Invalid input: see `field_errors`.",
    "401": "Not authenticated: send `Authorization: Token <token>`.",
    "403": "Not allowed for this account's role.",
    "404": "Not found, or not visible to this account.",
    "429": "Too many requests: retry after the `Retry-After` header's seconds.",
}
UNSAFE_ERRORS = {"415": "Unsupported media type."}


class AutoSchema(SpectacularAutoSchema):
    """Documents the shared error answers on every operation, so clients and fuzzers know them."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {**ERRORS, **(UNSAFE_ERRORS if self.method in ("POST", "PUT", "PATCH") else {})}
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait before the next request.",
                        }
                    }
                responses[code] = response
        return responses
