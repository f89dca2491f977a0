"""The tracking endpoints' HTTP side: method, CORS, parse, one call to ``intake.accept``."""

from datetime import UTC, datetime

from django.http import HttpResponse

from delivery.ingest import intake, parse
from delivery.ingest.errors import IngestError, error_response, json_response
from segapp.client_ip import client_ip

# Path → the message type it implies (None: a batch). Short forms are analytics.js's.
ENDPOINTS = {
    "identify": "identify",
    "track": "track",
    "page": "page",
    "screen": "screen",
    "group": "group",
    "alias": "alias",
    "batch": None,
    "import": None,
    "i": "identify",
    "t": "track",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "b": None,
}
PATHS = {f"/v1/{name}": name for name in ENDPOINTS}

_DEFAULT_ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, X-Retry-Count"


def handle(request, endpoint: str) -> HttpResponse:
    if request.method == "OPTIONS":
        response = preflight(request, "POST, OPTIONS")
    elif request.method != "POST":
        response = error_response(IngestError(405, "method_not_allowed", "Use POST."))
        response["Allow"] = "POST, OPTIONS"
    else:
        response = _accept(request, ENDPOINTS[endpoint])
    allow_cross_origin(request, response)
    return response


def allow_cross_origin(request, response, *, public_document: bool = False) -> None:
    """Browsers on any site call the /v1 endpoints (analytics.js). Tracking echoes the origin
    rather than "*", which keeps working should a client ever send credentials; a public document
    that is the same for every site says "*", so one cached copy serves them all."""
    origin = request.META.get("HTTP_ORIGIN")
    if public_document or not origin:
        response["Access-Control-Allow-Origin"] = "*"
    else:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"


def _accept(request, single_type: str | None) -> HttpResponse:
    received_at = datetime.now(UTC)
    try:
        body, body_size = parse.read_json(request)
        source = parse.source_for(parse.write_key(request, body))
        outcome = intake.accept(
            source,
            body,
            body_size=body_size,
            single_type=single_type,
            received_at=received_at,
            ip=client_ip(request),
        )
    except IngestError as error:
        return error_response(error)
    return json_response(outcome.as_json())


def preflight(request, methods: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = methods
    response["Access-Control-Allow-Headers"] = (
        request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or _DEFAULT_ALLOWED_HEADERS
    )
    response["Access-Control-Max-Age"] = "86400"
    return response
