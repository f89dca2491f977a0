"""Request-level rules of the tracking API: body encoding, size limits, JSON, the write key.

Anything refused here refuses the whole request (400/401/403/411/415); a single bad message inside a
good request is ``messages.py``'s business.
"""

import base64
import binascii
import functools
import zlib
from dataclasses import dataclass

import orjson
from django.db import connection

from connections.models import WriteKey
from delivery.ingest.errors import IngestError
from segapp import jsondepth

# Segment's documented limits: https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#max-request-size
MAX_REQUEST_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_MESSAGES = 2500


def _too_large() -> IngestError:
    return IngestError(400, "request_too_large", "The request is over the 500KB limit.")


def read_json(request) -> tuple[dict, int]:
    """The decoded body and its size in bytes (after gzip)."""
    body = _read_chunked(request.META) if _is_chunked(request.META) else _read_sized(request)
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding == "gzip":
        body = _gunzip(body)
    elif encoding not in ("", "identity"):
        raise IngestError(415, "unsupported_encoding", "Content-Encoding must be gzip or absent.")
    # Any Content-Type is parsed as JSON: browsers send text/plain to avoid a CORS preflight.
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise IngestError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise IngestError(400, "invalid_request", "The request body must be a JSON object.")
    return data, len(body)


def _read_sized(request) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise IngestError(400, "invalid_request", "Content-Length is not a number.") from None
    if length > MAX_REQUEST_BYTES:
        raise _too_large()  # refused before reading a byte of it
    return request.body


def _is_chunked(meta) -> bool:
    encoding = meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    return not meta.get("CONTENT_LENGTH") and "chunked" in encoding


def _read_chunked(meta) -> bytes:
    """A body sent without a length. Django reads it as empty (it trusts Content-Length alone), so
    it is read from the server's stream, which gunicorn ends with the body and says so with
    ``wsgi.input_terminated``; one byte past the limit is enough to refuse it."""
    if not meta.get("wsgi.input_terminated"):
        raise IngestError(
            411,
            "length_required",
            "This server cannot read a chunked body: send a Content-Length.",
        )
    body = meta["wsgi.input"].read(MAX_REQUEST_BYTES + 1)
    if len(body) > MAX_REQUEST_BYTES:
        raise _too_large()
    return body


def _gunzip(body: bytes) -> bytes:
    # The limit applies to the JSON itself; max_length stops a gzip bomb at the limit.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_REQUEST_BYTES + 1)
    except zlib.error:
        raise IngestError(400, "invalid_gzip", "The body is not valid gzip.") from None
    if len(data) > MAX_REQUEST_BYTES or inflater.unconsumed_tail:
        raise _too_large()
    if not inflater.eof:
        raise IngestError(400, "invalid_gzip", "The gzip body is truncated.")
    return data


def write_key(request, body: dict) -> str:
    """HTTP Basic user name (empty password), else ``writeKey`` in the body (analytics-python)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        try:
            user = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise IngestError(
                401, "unauthorized", "The Authorization header is malformed."
            ) from None
        if user:
            return user
    key = body.get("writeKey")
    if isinstance(key, str) and key:
        return key
    raise IngestError(
        401,
        "unauthorized",
        "Missing write key: send it as the HTTP Basic user name or as writeKey in the body.",
    )


@dataclass(frozen=True, slots=True)
class SourceRef:
    id: str
    workspace_id: str


@functools.cache
def _source_sql() -> str:
    # The ORM writes the lookup; compiling it costs more than running it, so it is compiled once
    # per process (the SQL text, not any data).
    query = (
        WriteKey.objects.filter(key="")
        .order_by()
        .values_list("source_id", "source__workspace_id", "source__enabled")[:1]
        .query
    )
    return query.sql_with_params()[0]


def could_be_write_key(key: str) -> bool:
    """False for a key no source can have: PostgreSQL text cannot hold NUL (looking one up fails)."""
    return "\x00" not in key


def source_for(key: str) -> SourceRef:
    """One indexed query; never cached in process, so a disabled source stops at once everywhere."""
    row = None
    if could_be_write_key(key):
        with connection.cursor() as cursor:
            cursor.execute(_source_sql(), [key])
            row = cursor.fetchone()
    if row is None:
        raise IngestError(401, "unauthorized", "Invalid write key.")
    source_id, workspace_id, enabled = row
    if not enabled:
        # 403, not 401: the key is right, the source refuses. Segment's clients drop a batch on a
        # 4xx other than 429 instead of retrying it, which is what a disabled source wants.
        raise IngestError(
            403, "source_disabled", "This source is disabled: enable it to receive events."
        )
    return SourceRef(source_id, workspace_id)


@dataclass(slots=True)
class Envelope:
    """What a batch request says about all its messages."""

    messages: list
    sent_at: object = None
    context: object = None
    integrations: object = None


def envelope(body: dict, single_type: str | None, body_size: int) -> Envelope:
    """The messages of a request: the body itself on single-message paths, else its ``batch``."""
    if single_type is not None:
        if body_size > MAX_MESSAGE_BYTES:
            raise _message_too_large(0, body_size)
        if jsondepth.exceeds(body):
            raise _too_deep("The message")
        return Envelope([body])
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise IngestError(400, "invalid_request", "batch must be an array of messages.")
    if len(batch) > MAX_BATCH_MESSAGES:
        raise IngestError(
            400,
            "batch_too_large",
            f"The batch holds {len(batch)} messages; the limit is {MAX_BATCH_MESSAGES}.",
        )
    # Messages too deep are rejected one by one (messages.refusal); what the request says
    # besides them (context, integrations) goes into every message, so it refuses the request.
    if jsondepth.exceeds({key: value for key, value in body.items() if key != "batch"}):
        raise _too_deep("The request, outside its batch,")
    if body_size > MAX_MESSAGE_BYTES:  # else no message in it can be over the limit
        for index, message in enumerate(batch):
            try:
                size = len(orjson.dumps(message))
            except orjson.JSONEncodeError:
                continue  # nested past what orjson writes, so too deep: messages.refusal says so
            if size > MAX_MESSAGE_BYTES:
                raise _message_too_large(index, size)
    return Envelope(batch, body.get("sentAt"), body.get("context"), body.get("integrations"))


def _too_deep(what: str) -> IngestError:
    return IngestError(400, "too_deep", f"{what} nests deeper than {jsondepth.MAX_DEPTH} levels.")


def _message_too_large(index: int, size: int) -> IngestError:
    return IngestError(
        400,
        "message_too_large",
        f"Message {index} is {size} bytes; the limit is 32KB per message.",
    )
