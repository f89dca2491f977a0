"""Answers the tracking API (and the device-mode settings document) ahead of the console's
middleware.

Tracking requests carry a write key, never a session: they have no use for sessions, CSRF, auth,
messages, clickjacking headers or URL resolution, and they are most of the traffic. Placed right
after the request log (so each still gets its one log line), this returns before any of that runs.
Host validation (ALLOWED_HOSTS, in CommonMiddleware) is skipped too: it guards URLs built from the
Host header, and the tracking API builds none (the settings document does, and validates it).
"""

from delivery.ingest import http, settings_endpoint


class TrackingApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        endpoint = http.PATHS.get(request.path_info)
        if endpoint is not None:
            return http.handle(request, endpoint)
        # The device-mode settings document is fetched on every page load, like the tracking calls.
        write_key = settings_endpoint.write_key_in(request.path_info)
        if write_key is not None:
            return settings_endpoint.handle(request, write_key)
        return self.get_response(request)
