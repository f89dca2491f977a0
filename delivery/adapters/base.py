"""What every destination adapter is: Segment messages in, HTTP requests out, and a verdict on
the tool's response.

An adapter never sends and never decides what happens next: ``delivery/sender.py`` sends what
``build`` prepares, and ``delivery/retries.py`` turns each ``Verdict`` into delivered, a retry
later, a discard or a dead letter. Adding a tool: see ``delivery/adapters/README.md``.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from delivery import integrations


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # 429, 5xx, timeouts, connection errors: the tool may take it later
    DISCARD = "discard"  # any other 4xx: sending again would fail again


@dataclass
class PreparedRequest:
    """One HTTP request for the tool, carrying the messages it delivers."""

    method: str
    url: str
    body: bytes
    message_ids: list[str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Unsupported:
    """A message the tool cannot take (e.g. ``alias`` for a tool without aliases): counted as
    filtered with this reason, never as an error."""

    message_id: str
    reason: str


@dataclass
class Result:
    """The verdict on one request, per message where a batch can partly fail."""

    verdict: Verdict
    reason: str
    retry_after: float | None = None
    # For batched tools that report per-message failures: message id → (verdict, reason).
    per_message: dict[str, tuple[Verdict, str]] = field(default_factory=dict)
    # Requests this answer calls for, sent right after it (a lookup, then a create or an update);
    # the messages they carry take the worst verdict of the whole chain.
    follow_up: list["PreparedRequest"] = field(default_factory=list)


def verdict_for_status(status: int) -> Verdict:
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status == 429 or status >= 500:
        return Verdict.RETRY
    return Verdict.DISCARD


class Adapter:
    """Base class. Subclasses set ``slug`` (the catalog entry), ``display_name`` and
    ``default_endpoint``.

    ``names`` are the catalog entry's display name and previous names, and ``instance_id`` the
    instance's id: the keys under which a message's integrations object passes options to it.
    """

    slug: ClassVar[str]
    # How reasons name the tool ("calls are not supported by …").
    display_name: ClassVar[str] = "this destination"
    default_endpoint: ClassVar[str] = ""
    # The instance setting that overrides ``default_endpoint`` (a regional host, a proxy, a test).
    endpoint_setting: ClassVar[str] = "endpoint"
    # How many messages one request may carry; 1 for tools without a batch API.
    batch_size: ClassVar[int] = 1
    # True when the tool's requests do not depend on one another (no look-up-then-write, no
    # record that an earlier request must create first): a job may then send them side by side.
    independent_requests: ClassVar[bool] = False
    supported_types: ClassVar[frozenset[str]] = frozenset(
        {"identify", "track", "page", "screen", "group", "alias"}
    )
    # Settings that sign what is sent (a shared secret). Segapp signs only bodies it built from
    # ingested events: the Event Tester, whose bodies the user writes, builds its adapter without
    # them, or anyone who may test could have any body signed.
    signing_settings: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: dict, *, names: tuple[str, ...] = (), instance_id: str = ""):
        self.settings = settings
        self.names = list(names)
        self.instance_id = instance_id
        self.endpoint = (settings.get(self.endpoint_setting) or self.default_endpoint).rstrip("/")

    def options(self, message: dict) -> dict:
        """The options object the message's integrations object gives this destination, or {}."""
        decision = integrations.decide(message.get("integrations"), self.instance_id, self.names)
        return decision.options or {}

    def unsupported_reason(self, message: dict) -> str | None:
        if message.get("type") not in self.supported_types:
            return f"{message.get('type')} calls are not supported by {self.display_name}"
        return None

    def build(self, messages: list[dict]) -> tuple[list[PreparedRequest], list[Unsupported]]:
        """Requests for the supported messages, and the unsupported ones with their reasons."""
        supported, unsupported = [], []
        for message in messages:
            reason = self.unsupported_reason(message)
            if reason:
                unsupported.append(Unsupported(message["messageId"], reason))
            else:
                supported.append(message)
        requests = []
        for start in range(0, len(supported), self.batch_size):
            requests.extend(self.build_requests(supported[start : start + self.batch_size]))
        # A message no request carries (no URL configured, say) is counted, never lost silently.
        carried = {message_id for request in requests for message_id in request.message_ids}
        unsupported.extend(
            Unsupported(
                m["messageId"], f"{self.display_name} settings give this call nowhere to go"
            )
            for m in supported
            if m["messageId"] not in carried
        )
        return requests, unsupported

    def build_requests(self, messages: list[dict]) -> list[PreparedRequest]:
        raise NotImplementedError

    def interpret(self, request: PreparedRequest, status: int, body: bytes) -> Result:
        """The default reading of a response: by status code alone."""
        verdict = verdict_for_status(status)
        reason = (
            ""
            if verdict == Verdict.DELIVERED
            else f"HTTP {status}: {body[:300].decode(errors='replace')}"
        )
        return Result(verdict, reason)
