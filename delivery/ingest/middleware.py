"""Answers the tracking API ahead of the console's middleware.

Tracking requests carry a write key, never a session: they have no use for sessions, CSRF, auth,
messages, clickjacking headers or URL resolution, and they are most of the traffic. Placed right
after the request log (so each still gets its one log line), this returns before any of that runs.
Host validation (ALLOWED_HOSTS, in CommonMiddleware) is skipped too: it guards URLs built from the
Host header, and the tracking API builds none.
"""

from delivery.ingest import http


class TrackingApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = http.PATHS.get(request.path_info)
        if endpoint is None:
            return self.get_response(request)
        return http.handle(request, endpoint)
