"""The Content-Security-Policy: pages run only scripts and styles served from our own static
files (htmx is vendored), so injected markup cannot run script or send data elsewhere.

Templates therefore carry no inline ``<script>``, ``<style>``, ``style=`` or ``on…=`` attributes,
and htmx is told not to add its indicator ``<style>`` nor evaluate expressions
(``templates/base.html``). A view that needs more (Swagger UI's page) says so with ``csp_allow``.
"""

from functools import wraps

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def csp_allow(**extra: str):
    """Adds sources to directives of one view's policy: ``csp_allow(img_src="data:")``."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.csp_extra = {name.replace("_", "-"): value for name, value in extra.items()}
            return response

        return wrapper

    return decorator


def header_value(extra: dict[str, str] | None = None) -> str:
    policy = dict(POLICY)
    for directive, sources in (extra or {}).items():
        policy[directive] = f"{policy.get(directive, '')} {sources}".strip()
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


_DEFAULT = header_value()


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            extra = getattr(response, "csp_extra", None)
            response["Content-Security-Policy"] = header_value(extra) if extra else _DEFAULT
        return response
