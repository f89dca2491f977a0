"""The tracking API's one error shape, ``{"code": ..., "message": ...}``.

Segment's clients read both fields (analytics-python raises ``APIError(status, code, message)``), and
they retry only 5xx and 429, so every refusal here is a 4xx: resending the same request cannot help.
"""

import orjson
from django.http import HttpResponse


class IngestError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_response(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")


def error_response(error: IngestError) -> HttpResponse:
    return json_response({"code": error.code, "message": error.message}, status=error.status)
