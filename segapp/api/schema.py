"""OpenAPI pieces every API module shares: the Bearer scheme, Segment's pagination parameters,
the ``{"data": …}`` envelope and the ``{"errors": […]}`` responses (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "segapp.api.auth.BearerTokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object("Authorization", "Bearer")


PAGINATION_PARAMETERS = [
    OpenApiParameter(
        "pagination.count",
        int,
        description="Items per page, 1 to 1000 (default 200). `pagination[count]` also works.",
    ),
    OpenApiParameter(
        "pagination.cursor",
        str,
        description="A `next` or `previous` cursor from an earlier page. "
        "`pagination[cursor]` also works.",
    ),
]


@extend_schema_serializer(component_name="PaginationOutput")
class PaginationSerializer(serializers.Serializer):
    current = serializers.CharField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    totalEntries = serializers.IntegerField()


@extend_schema_serializer(component_name="RequestError")
class ErrorSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The rule that refused the request, or the HTTP kind")
    message = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The input the error is about")


@extend_schema_serializer(component_name="RequestErrorEnvelope")
class ErrorEnvelopeSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)


_ERROR_TEXT = {
    401: "Missing, invalid or revoked token",
    403: "The token's role does not allow this change",
    404: "Not found in this token's workspace",
    409: "Conflicts with existing state (a multi-instance rule, a taken name or slug)",
    422: "Invalid input or refused by a rule; `field` names the input",
    429: "Too many requests: see Retry-After and the X-RateLimit-* headers",
}


def errors(*codes: int) -> dict:
    """Error responses for ``extend_schema(responses=…)``: 401 and 429 always, plus ``codes``."""
    return {
        code: OpenApiResponse(ErrorEnvelopeSerializer, description=_ERROR_TEXT[code])
        for code in sorted({401, 429, *codes})
    }


def envelope(name: str, **fields):
    """``{"data": {name's fields}}``, named as the official SDK names the inner object.

    Marked ``many=False``: a list action answers one envelope, not an array of them."""
    outer = inline_serializer(f"{name}Envelope", {"data": inline_serializer(name, fields)})
    extend_schema_serializer(many=False)(type(outer))
    return outer


def status_output(name: str):
    """Segment's answer to a delete: ``{"data": {"status": "SUCCESS"}}``."""
    return envelope(name, status=serializers.ChoiceField(choices=["SUCCESS"]))


def list_schema(
    operation_id: str, output: str, key: str, serializer, *, parameters=(), codes=(), **extra
):
    """``extend_schema`` for a paginated list: ``{"data": {key: [...], "pagination": {...}}}``."""
    return extend_schema(
        operation_id=operation_id,
        parameters=[*parameters, *PAGINATION_PARAMETERS],
        **extra,
        responses={
            200: envelope(
                output, **{key: serializer(many=True)}, pagination=PaginationSerializer()
            ),
            **errors(422, *codes),
        },
    )
