"""Dry runs of the delivery path for the console: the Event Tester and the routing preview.

The Event Tester sends one event through one instance's real path: the source's transformations,
routing's refusal rules and the instance's filters, its adapter, then ``sender.send`` under the
egress policy. The routing preview sends nothing: for every instance of a source it tells whether
an event would go there and why not, from the same rules routing applies (DESIGN §7).

Neither stores an event, creates a job or counts an outcome, so tests never show in delivery
metrics and never trip an instance's circuit breaker.
"""

import uuid
from dataclasses import dataclass, field

import orjson
from django.utils import timezone

from connections.models import DestinationFilter, DestinationInstance
from delivery import deliveries, filters, pipeline, routing
from delivery.adapters.base import Adapter, PreparedRequest, Verdict
from delivery.ingest.messages import Arrival, Rejected, iso, prepare
from delivery.masking import masked, masked_request, masked_response
from delivery.pretty import pretty
from segapp.refusal import Refusal

# Generous for a page (the error log keeps less), bounded by what one message may weigh (32KB).
SHOWN_BODY_BYTES = 64 * 1024
VERDICTS = {
    Verdict.DELIVERED: "delivered",
    Verdict.RETRY: "would retry",
    Verdict.DISCARD: "discarded",
}

_WEB = {
    "library": {"name": "analytics.js", "version": "next-1.70.0"},
    "page": {
        "path": "/pricing",
        "referrer": "https://www.example.com/",
        "title": "Pricing",
        "url": "https://www.example.com/pricing",
    },
    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "locale": "en-US",
}
_MOBILE = {
    "library": {"name": "analytics-swift", "version": "1.5.11"},
    "app": {"name": "Acme", "version": "3.2.0", "build": "320"},
    "device": {"manufacturer": "Apple", "model": "iPhone15,2", "type": "ios"},
    "os": {"name": "iOS", "version": "17.2"},
    "locale": "en-US",
}
_SAMPLES = {
    "identify": {
        "userId": "user-1",
        "traits": {"email": "peter@example.com", "name": "Peter Gibbons", "plan": "premium"},
    },
    "track": {
        "event": "Order Completed",
        "userId": "user-1",
        "properties": {"order_id": "50314b8e", "total": 27.5, "revenue": 25, "currency": "USD"},
    },
    "page": {"name": "Pricing", "userId": "user-1", "properties": {"title": "Pricing"}},
    "screen": {"name": "Home", "userId": "user-1", "properties": {"variation": "blue signup"}},
    "group": {
        "groupId": "group-1",
        "userId": "user-1",
        "traits": {"name": "Initech", "industry": "Technology", "employees": 329},
    },
    "alias": {"previousId": "anon-4f8c2a", "userId": "user-1"},
}


class EventInvalid(ValueError):
    """The pasted event is not JSON, or breaks a rule of the tracking API."""


def sample_event(kind: str) -> str:
    """A realistic message of type ``kind`` (track if unknown), as indented JSON."""
    kind = kind if kind in _SAMPLES else "track"
    message = {
        "type": kind,
        "messageId": f"test-{uuid.uuid4()}",
        "anonymousId": "anon-4f8c2a",
        **_SAMPLES[kind],
        "context": _MOBILE if kind == "screen" else _WEB,
        "timestamp": iso(timezone.now()),
    }
    if kind == "alias":
        del message["anonymousId"]
    return pretty(message)


def parse_event(text: str, ip: str) -> dict:
    """The event as the tracking API would store it (``receivedAt``, ``messageId``, corrected
    ``timestamp``, ``context.ip``), or ``EventInvalid`` with the API's own reason."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise EventInvalid(f"The event is not valid JSON: {error}.") from None
    prepared = prepare(message, 0, Arrival(received_at=timezone.now(), ip=ip))
    if isinstance(prepared, Rejected):
        raise EventInvalid(prepared.reason)
    return message


@dataclass
class Passage:
    """One event's way to one instance, up to the requests its adapter builds."""

    instance: DestinationInstance
    reason: str = ""  # why it goes no further; empty if it would be sent
    filter: DestinationFilter | None = None  # the filter that dropped or sampled it out
    received: dict | None = None  # the message after the instance's filters
    changes: list[str] = field(default_factory=list)  # what those filters changed
    adapter: Adapter | None = None
    requests: list[PreparedRequest] = field(default_factory=list)
    # Labels of the signing settings left out (the tester signs no body a user wrote).
    unsigned: list[str] = field(default_factory=list)

    @property
    def is_sent(self) -> bool:
        return not self.reason

    def received_json(self) -> str:
        return pretty(self.received)

    def shown_requests(self) -> list[dict]:
        secrets = self.instance.secrets
        return [masked_request(r, secrets, SHOWN_BODY_BYTES) for r in self.requests]


def _passage(
    instance, message: dict, plan: pipeline.Plan, source_filters: dict, *, signing: bool = True
) -> Passage:
    """``message`` is already transformed; ``source_filters`` maps filter ids to filters.
    ``signing=False`` for a request that is sent: its body is the user's (``adapter_of``)."""
    passage = Passage(instance)
    if reason := routing.refusal(instance, message, plan):
        filter_id = filters.filter_named(reason)
        passage.reason, passage.filter = reason, source_filters.get(filter_id)
        return passage
    passage.received, _ = plan.receive(instance.pk, message)
    passage.changes = changes(message, passage.received)
    try:
        passage.adapter = deliveries.adapter_of(instance, signing=signing)
    except Refusal as refusal:
        passage.reason = f"Not sent: {refusal.message}"
        return passage
    if not signing:
        stored = instance.secrets
        passage.unsigned = [
            option.get("label") or option["name"]
            for option in instance.metadata.options
            if option["name"] in passage.adapter.signing_settings and stored.get(option["name"])
        ]
    passage.requests, unsupported, failure = deliveries.build(passage.adapter, [passage.received])
    if failure or unsupported:
        passage.reason = failure or unsupported[0].reason
    return passage


@dataclass
class Transformed:
    """An event after the source's transformations, which every instance receives alike."""

    transformed: dict
    transformations: list[str]  # what they changed

    def transformed_json(self) -> str:
        return pretty(self.transformed)


def _filters_of(source_id: str) -> dict[str, DestinationFilter]:
    return {f.pk: f for f in DestinationFilter.objects.filter(instance__source_id=source_id)}


def changes(before: dict, after: dict, prefix: str = "") -> list[str]:
    """What turned ``before`` into ``after``, one line per field: removed, added or changed."""
    found = []
    for key in [*before, *(k for k in after if k not in before)]:
        path = f"{prefix}{key}"
        if key not in after:
            found.append(f"removed {path}")
        elif key not in before:
            found.append(f"added {path}")
        elif isinstance(before[key], dict) and isinstance(after[key], dict):
            found.extend(changes(before[key], after[key], f"{path}."))
        elif before[key] != after[key]:
            found.append(f"changed {path}")
    return found


# The Event Tester.


@dataclass
class Exchange:
    request: dict
    response: dict
    verdict: str
    reason: str
    is_follow_up: bool


@dataclass
class TesterRun(Transformed):
    passage: Passage
    exchanges: list[Exchange] = field(default_factory=list)


def refuse_test(instance: DestinationInstance) -> str | None:
    """Why the tester cannot send to ``instance``, or None. A disabled instance can be tested,
    as in Segment; a device-mode one has no server-side path: the browser or app sends."""
    if routing.idle_reason(instance) == routing.DEVICE_MODE:
        return (
            "This instance is in device mode: analytics.js or the mobile library sends its "
            "events to the tool from the browser or device, so Segapp's servers have no request "
            "to test. Switch it to cloud mode to test it here."
        )
    return None


def send_test_event(instance_id: str, message: dict) -> TesterRun:
    """Sends ``message`` (from ``parse_event``) to one instance now, and tells what happened."""
    instance = DestinationInstance.objects.select_related("metadata").get(pk=instance_id)
    plan = pipeline.plan_for(instance.source_id)
    transformed = plan.transform(message)
    passage = _passage(instance, transformed, plan, _filters_of(instance.source_id), signing=False)
    run = TesterRun(transformed, changes(message, transformed), passage)
    if not passage.is_sent:
        return run
    secrets, message_id = instance.secrets, passage.received["messageId"]
    for request, response, result in deliveries.exchanges(passage.adapter, passage.requests):
        verdict, reason = result.per_message.get(message_id, (result.verdict, result.reason))
        run.exchanges.append(
            Exchange(
                request=masked_request(request, secrets, SHOWN_BODY_BYTES),
                response=masked_response(response, secrets, SHOWN_BODY_BYTES),
                verdict=VERDICTS[verdict],
                reason=masked(reason, secrets),
                is_follow_up=not any(request is first for first in passage.requests),
            )
        )
    return run


# The routing preview.


@dataclass
class RoutingPreview(Transformed):
    passages: list[Passage]


def preview_routing(source_id: str, message: dict) -> RoutingPreview:
    """What every instance of the source would make of ``message``; nothing is sent or stored."""
    plan = pipeline.plan_for(source_id)
    transformed = plan.transform(message)
    source_filters = _filters_of(source_id)
    passages = []
    for instance in routing.source_instances(source_id):
        if reason := routing.idle_reason(instance):
            passages.append(Passage(instance, reason))
        else:
            passages.append(_passage(instance, transformed, plan, source_filters))
    return RoutingPreview(transformed, changes(message, transformed), passages)
