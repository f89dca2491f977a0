"""Every console URL inside a workspace, so access tests cover endpoints added later too."""

import re

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter

WORKSPACE_PREFIX = "w/<slug:workspace_slug>/"


def _walk(patterns, prefix="", converters=None):
    for p in patterns:
        route = prefix + str(p.pattern)
        found = {**(converters or {}), **getattr(p.pattern, "converters", {})}
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route, found)
        elif isinstance(p, URLPattern):
            yield route, found


def workspace_paths(workspace_slug: str) -> list[str]:
    """Concrete paths for every workspace route, with dummy ids (access is checked before lookup)."""
    paths = []
    for route, converters in _walk(get_resolver().url_patterns):
        if not route.startswith(WORKSPACE_PREFIX):
            continue
        path = route
        for name, converter in converters.items():
            value = (
                workspace_slug
                if name == "workspace_slug"
                else ("1" if isinstance(converter, IntConverter) else "x1")
            )
            path = path.replace(f"<{_type(converter)}:{name}>", value).replace(f"<{name}>", value)
        paths.append("/" + path)
    return paths


def _type(converter) -> str:
    return {
        "IntConverter": "int",
        "SlugConverter": "slug",
        "StringConverter": "str",
        "UUIDConverter": "uuid",
        "PathConverter": "path",
    }[type(converter).__name__]


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def workspace_routes() -> list[str]:
    """Every workspace route as the URL conf writes it (``w/<slug:workspace_slug>/…``)."""
    routes = (route for route, _ in _walk(get_resolver().url_patterns))
    return [route for route in routes if route.startswith(WORKSPACE_PREFIX)]


def route_parameters(route: str) -> list[str]:
    """The route's parameter names, outermost first."""
    return PARAMETER.findall(route)


def fill(route: str, values: dict) -> str:
    """The route as a path, each parameter replaced by its value in ``values``."""
    return "/" + PARAMETER.sub(lambda match: str(values[match[1]]), route)
