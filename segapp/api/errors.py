"""Every Public API error takes Segment's shape: ``{"errors": [{"type", "message", "field"?}]}``."""

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from segapp.refusal import Refusal

_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    415: "unsupported-media-type",
    422: "validation",
    429: "too-many-requests",
}


class FieldErrors(Exception):
    """Several errors of one kind at once, each naming its field (every invalid setting, say)."""

    def __init__(
        self, type_: str, errors: dict[str, str], status: int = 422, types: dict | None = None
    ):
        super().__init__(f"{type_}: {errors}")
        self.type = type_
        self.errors = errors
        self.status = status
        # A field refused by another rule than ``type_`` names its own (endpoint-not-allowed).
        self.types = types or {}


def error_response(
    status_code: int, message: str, *, type_: str | None = None, field=None, headers=None
):
    error = {"type": type_ or _TYPES.get(status_code, "error"), "message": message}
    if field:
        error["field"] = field
    return Response({"errors": [error]}, status=status_code, headers=headers)


def _flatten(detail, field=None):
    """DRF validation details (nested dicts and lists) as (field, message) pairs."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else None
            yield from _flatten(value, f"{field}.{name}" if field and name else (name or field))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flatten(item, field)
    else:
        yield field, str(detail)


def exception_handler(exc, context):
    if isinstance(exc, FieldErrors):
        errors = [
            {"type": exc.types.get(field, exc.type), "message": message, "field": field}
            for field, message in exc.errors.items()
        ]
        return Response({"errors": errors}, status=exc.status)
    if isinstance(exc, Refusal):
        return error_response(exc.status, exc.message, type_=exc.rule, field=exc.field)
    if isinstance(exc, exceptions.ValidationError):
        errors = [
            {"type": "validation", "message": message, **({"field": field} if field else {})}
            for field, message in _flatten(exc.detail)
        ]
        return Response({"errors": errors}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
    headers = {
        k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")
    }
    return error_response(response.status_code, str(detail), headers=headers)
