"""``GET /v1/projects/{writeKey}/settings``: the device-mode settings document's HTTP side.

The document is built in ``connections/device_mode.py``; this answers it the way the tracking
endpoints are answered (ahead of sessions, CSRF and templates, see ``middleware.py``), with their
CORS and ``{"code", "message"}`` errors.

Caching: analytics-next fetches the document through the browser's HTTP cache on every page load.
``max-age`` would let the browser reuse a copy without asking, so a destination switched off in the
console would keep loading until it expired. ``no-cache`` makes the browser (and any shared cache)
revalidate each time with ``If-None-Match``; an unchanged configuration answers 304 from one
indexed query, without building the document.
"""

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.utils.http import parse_etags

from connections import device_mode
from delivery.ingest import http, parse
from delivery.ingest.errors import IngestError, error_response, json_response
from privacy import device_rules

PREFIX, SUFFIX = "/v1/projects/", "/settings"
CACHE_CONTROL = "public, no-cache"


def write_key_in(path: str) -> str | None:
    """The write key of a settings path, else None (plain string checks: every request pays them)."""
    if path.startswith(PREFIX) and path.endswith(SUFFIX):
        key = path[len(PREFIX) : -len(SUFFIX)]
        if key and "/" not in key:
            return key
    return None


def handle(request, write_key: str) -> HttpResponse:
    if request.method == "OPTIONS":
        response = http.preflight(request, "GET, HEAD, OPTIONS")
    elif request.method not in ("GET", "HEAD"):
        response = error_response(IngestError(405, "method_not_allowed", "Use GET."))
        response["Allow"] = "GET, HEAD, OPTIONS"
    else:
        response = _settings(request, write_key)
        if request.method == "HEAD":
            response.content = b""
    http.allow_cross_origin(request, response, public_document=True)
    response["Access-Control-Expose-Headers"] = "ETag"
    return response


def _settings(request, write_key: str) -> HttpResponse:
    try:
        # Validated against ALLOWED_HOSTS: the host goes into apiHost, where browsers send events.
        api_host = request.get_host()
    except DisallowedHost:
        return error_response(IngestError(400, "invalid_host", "This host is not served here."))
    version = device_mode.source_version(write_key) if parse.could_be_write_key(write_key) else None
    if version is None:
        response = error_response(IngestError(404, "not_found", "Unknown write key."))
        response["Cache-Control"] = "no-store"
        return response
    tag = device_mode.etag(write_key, version, api_host)
    if _matches(request.META.get("HTTP_IF_NONE_MATCH"), tag):
        response = HttpResponse(status=304)
        # A 304's headers update the cached copy's: it must not relabel the JSON as HTML.
        del response["Content-Type"]
    else:
        response = json_response(_document(write_key, version, api_host))
    response["ETag"] = tag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def _document(write_key: str, version, api_host: str) -> dict:
    """The document with the data controls' rules ahead of the filters' (privacy acts first)."""
    document = device_mode.settings_document(write_key, version, api_host)
    bundled = document["integrations"]["Segment.io"]["maybeBundledConfigIds"]
    if bundled:
        device = {name: ids[0] for name, ids in bundled.items()}
        rules = document["middlewareSettings"]["routingRules"]
        rules[:0] = device_rules.routing_rules(version.source_id, device)
    return document


def _matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): ``W/`` is ignored."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return "*" in tags or tag in {t.removeprefix("W/") for t in tags}


# The paths under which analytics.js loads device-mode destinations' code and its own chunks.
LIBRARY_PREFIXES = ("next-integrations/", "analytics-next/bundles/")


def library_redirect(request, path: str) -> HttpResponse:
    """Sends the browser to ``DEVICE_MODE_CDN`` for a device-mode destination's code: analytics.js
    looks for it next to the settings document, and Segapp does not host tools' libraries."""
    response = HttpResponse(status=302)
    response["Location"] = f"{settings.DEVICE_MODE_CDN}/{request.path_info.lstrip('/')}"
    http.allow_cross_origin(request, response, public_document=True)
    return response
