"""What every API view shares: the error shape and pagination (the schema: api_schema.py)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, pagination, parsers, serializers
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error answer."""

    code = serializers.CharField(
        help_text="Machine-readable, e.g. `invalid`, `not_found`, `not_authenticated`, `throttled`."
    )
    message = serializers.CharField(help_text="Human-readable summary.")
    field_errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (empty unless the input was invalid).",
    )


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as {"a.b": [...]}: clients get one flat mapping."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list) and detail and all(isinstance(v, (dict, list)) for v in detail):
        for n, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{n}" if prefix else str(n)))
    else:
        items = detail if isinstance(detail, list) else [detail]
        out[prefix or "non_field_errors"] = [str(v) for v in items]
    return out


def exception_handler(exc, context):
    # Services raise Django's ValidationError; answer it like a serializer's.
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)  # keeps headers such as Retry-After
    if response is None:
        return None  # an unexpected error: Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        field_errors = _flatten(exc.detail)
        general = field_errors.pop("non_field_errors", [])
        message = " ".join(general) if general else "The request is invalid: see field_errors."
        if general and field_errors:
            field_errors["non_field_errors"] = general
        code = "invalid"
    else:
        field_errors = {}
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    response.data = {"code": code, "message": message, "field_errors": field_errors}
    return response


class Pagination(pagination.PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    """A URL that matches no route (e.g. a job id that is not a UUID): JSON under /api/."""
    if _is_api(request):
        return JsonResponse(
            {"code": "not_found", "message": "Not found.", "field_errors": {}}, status=404
        )
    return defaults.page_not_found(request, exception)


def handler500(request):
    """An unexpected error (already logged by Django): the error shape under /api/."""
    if _is_api(request):
        return JsonResponse(
            {"code": "server_error", "message": "Internal server error.", "field_errors": {}},
            status=500,
        )
    return defaults.server_error(request)


def json_depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: any depth)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


class DepthLimitedJSONParser(parsers.JSONParser):
    """JSON bodies nested deeper than API_JSON_MAX_DEPTH are a 400, never a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        from django.conf import settings

        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if json_depth(data) > settings.API_JSON_MAX_DEPTH:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {settings.API_JSON_MAX_DEPTH} levels."
            )
        return data
