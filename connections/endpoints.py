"""Where an instance's requests may go and what they may carry (DESIGN §4.2): the checks a URL, an
endpoint override and a custom header pass when they are saved, and again before a stored endpoint
is given a secret.

Pure functions over plain values. ``connections/settings_schema.py`` applies them by option format
at save; ``refuse_stored_endpoint`` answers delivery before it builds a tool's requests, so a value
stored before these checks existed cannot carry a secret either.
"""

import re

from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from segapp.refusal import Refusal

DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 7230 §3.2.6: a header name is a token.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters other than tab end a header (CR, LF) or cut it short (NUL) on the way out.
HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def parse(value: str) -> Url:
    """``value`` parsed by the parser the sender uses, or ValueError with a message for the user.

    The checks refuse what parsers disagree on (a backslash, userinfo, spaces), so the host
    checked here is the host connected to."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("A URL cannot contain spaces or control characters.")
    if "\\" in value:
        raise ValueError("A URL cannot contain backslashes.")
    try:
        url = parse_url(value)
    except (LocationParseError, ValueError):
        raise ValueError("Enter a valid URL, such as https://example.com/path.") from None
    if url.scheme not in DEFAULT_PORTS:
        raise ValueError("Enter an http:// or https:// URL.")
    if url.auth is not None:
        raise ValueError("Leave user names and passwords out of the URL.")
    if not url.host:
        raise ValueError("Enter a URL with a host name.")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError("A port is a number from 1 to 65535.")
    return url


def header_problem(name: str, value: str) -> str | None:
    """Why a custom header cannot be sent as given, or None."""
    if not HEADER_NAME.fullmatch(name):
        return f"“{name}” is not a valid header name: use letters, digits and - only."
    if HEADER_VALUE_FORBIDDEN.search(value):
        return f"The value of {name} cannot contain line breaks or control characters."
    if value != value.strip():
        return f"The value of {name} cannot start or end with spaces."
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f"The value of {name} can hold only Latin-1 characters (HTTP sends no others)."
    return None


def _matches(pattern: str, host: str) -> bool:
    """A documented host; ``*`` stands for one DNS label (Braze's ``rest.*.braze.com``)."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", r"[a-z0-9-]+"), host) is not None


def _extra_allows(entry: str, url: Url) -> bool:
    """An operator's extra host, ``host`` (any port) or ``host:port``."""
    try:
        allowed = parse_url(f"http://{entry}")
    except LocationParseError:
        return False
    port = url.port or DEFAULT_PORTS[url.scheme]
    return allowed.host == url.host and allowed.port in (None, port)


def is_allowed_host(url: Url, documented: list[str], extra: list[str]) -> bool:
    """The tool's documented hosts take its secrets over HTTPS on the default port only; an
    operator's extra hosts (a corporate proxy, a test sink) as they are written."""
    if any(_extra_allows(entry, url) for entry in extra):
        return True
    default_port = url.port in (None, DEFAULT_PORTS["https"])
    return (
        url.scheme == "https"
        and default_port
        and any(_matches(pattern, url.host) for pattern in documented)
    )


def refuse_endpoint(option: dict, value: str, extra: list[str]) -> Refusal | None:
    """May ``option`` (an endpoint override: it has ``allowedHosts``) send to ``value``?

    An endpoint receives the instance's credentials, so it may name only the tool's own hosts:
    otherwise anyone who may edit settings could have a stored API key sent to their server."""
    try:
        url = parse(value)
    except ValueError as problem:
        return Refusal(str(problem), rule="url-invalid", field=f"settings.{option['name']}")
    documented = option.get("allowedHosts", [])
    if is_allowed_host(url, documented, extra):
        return None
    return Refusal(
        f"{option.get('label') or option['name']} can only be one of the tool's own hosts, over "
        f"https: {', '.join(documented)}.",
        rule="endpoint-not-allowed",
        field=f"settings.{option['name']}",
    )


def refuse_stored_endpoint(options: list[dict], settings: dict, extra: list[str]) -> Refusal | None:
    """The first stored endpoint override that may no longer be sent to, or None."""
    for option in options:
        value = settings.get(option["name"])
        if "allowedHosts" in option and value and (found := refuse_endpoint(option, value, extra)):
            return found
    return None


def _hosts(option: dict, value) -> set[str | None]:
    """The hosts a routing option's value sends to; None stands for the tool's default."""
    values = value if isinstance(value, list) else [value]
    hosts = set()
    for item in values:
        try:
            url = parse(item) if item and isinstance(item, str) else None
        except ValueError:
            url = None  # refused when the value is checked
        hosts.add(f"{url.host}:{url.port or DEFAULT_PORTS[url.scheme]}" if url else None)
    return hosts


def routes_elsewhere(options: list[dict], before: dict, after: dict) -> bool:
    """Does ``after`` send requests to a host ``before`` did not? Secrets follow the host they
    were entered for: a new host gets them only if they are entered again with it."""
    for option in options:
        if option.get("format") != "url" or option.get("secret"):
            continue
        name = option["name"]
        old = _hosts(option, before.get(name, option.get("defaultValue")))
        new = _hosts(option, after.get(name, option.get("defaultValue")))
        if new - old:
            return True
    return False
