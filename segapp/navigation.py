"""Where a page sends the user back to: a ``next`` carried through a flow, kept to same-site
relative paths so a link can never send anyone to another host."""

from urllib.parse import urlencode

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, default: str) -> str:
    """The request's ``next`` (query or form), if it is a path on this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    is_relative = candidate.startswith("/") and not candidate.startswith(("//", "/\\"))
    if is_relative and url_has_allowed_host_and_scheme(candidate, allowed_hosts=None):
        return candidate
    return default


def with_next(url: str, next_url: str | None) -> str:
    """``url`` carrying ``next_url`` for the page after it."""
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url
