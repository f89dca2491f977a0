"""Amplitude: events in batches through the HTTP V2 API, group properties through Group Identify.

Request shapes follow
- https://amplitude.com/docs/apis/analytics/http-v2 (``POST /2/httpapi``, event fields, limits of
  2,000 events and 1 MB a request, the 400 body naming rejected events by index),
- https://amplitude.com/docs/apis/analytics/http-api-batching-retries (on a 400 that lists
  events, drop those and send the rest again; retry 429 and 5xx),
- https://amplitude.com/docs/apis/analytics/group-identify (``POST /groupidentify``, form-encoded),
and the mapping of Segment calls follows
https://segment.com/docs/connections/destinations/catalog/amplitude/ (page and screen event names,
device id choice, identify traits as user properties, group type and value traits, the
``session_id`` and ``groups`` integration options).

The endpoint setting is the API host: https://api.eu.amplitude.com for EU data residency.
"""

from urllib.parse import urlencode

from delivery.adapters.base import Adapter, PreparedRequest, Verdict
from delivery.adapters.batching import (
    ItemizedRequest,
    encode_json,
    message_ids,
    parse_json_response,
    per_item_result,
    split,
)
from delivery.adapters.mapping import compact, dig, epoch_ms, properties

MAX_EVENTS = 2000
MAX_BYTES = 1_000_000 - 10_000  # room for the api_key and the envelope
# Segment's group type when the Group Type/Value Trait settings do not apply to a group call.
LEGACY_GROUP_TYPE = "[Segment] Group"
REVENUE_FIELDS = ("revenue", "price", "quantity", "productId", "revenueType")
PLATFORMS = {"ios": "iOS", "android": "Android"}


class AmplitudeAdapter(Adapter):
    slug = "amplitude"
    independent_requests = True
    display_name = "Amplitude"
    default_endpoint = "https://api2.amplitude.com"
    batch_size = 100
    # Alias maps to Amplitude's user mapping API, a Portfolio add-on not implemented here.
    supported_types = frozenset({"identify", "track", "page", "screen", "group"})

    def unsupported_reason(self, message):
        if message.get("type") == "alias":
            return (
                "alias calls are not supported by Amplitude: its user mapping API "
                "(Portfolio add-on) is not implemented"
            )
        if message.get("type") in ("page", "screen") and not self.page_event_types(message):
            kind = message["type"]
            return (
                f"{kind} calls without a name or category are sent to Amplitude only with "
                "Track All Pages on"
            )
        return super().unsupported_reason(message)

    # Requests

    def build_requests(self, messages):
        items = [
            (message["messageId"], event) for message in messages for event in self.events(message)
        ]
        requests = [self.event_request(run) for run in split(items, MAX_EVENTS, MAX_BYTES)]
        identifications = [
            (message["messageId"], identification)
            for message in messages
            if (identification := self.group_identification(message))
        ]
        if identifications:
            requests.append(self.group_identify_request(identifications))
        return requests

    def event_request(self, run) -> ItemizedRequest:
        body = {"api_key": self.settings.get("apiKey", ""), "events": [e for _, e in run]}
        return ItemizedRequest(
            "POST",
            f"{self.endpoint}/2/httpapi",
            encode_json(body),
            message_ids(run),
            {"Content-Type": "application/json", "Accept": "*/*"},
            item_message_ids=[message_id for message_id, _ in run],
        )

    def group_identify_request(self, identifications) -> PreparedRequest:
        form = {
            "api_key": self.settings.get("apiKey", ""),
            "identification": encode_json([i for _, i in identifications]).decode(),
        }
        return PreparedRequest(
            "POST",
            f"{self.endpoint}/groupidentify",
            urlencode(form).encode(),
            message_ids(identifications),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    # Events

    def events(self, message: dict) -> list[dict]:
        kind = message["type"]
        if kind == "track":
            return [self.track_event(message)]
        if kind == "identify":
            return [self.identify_event(message)]
        if kind == "group":
            return [self.group_event(message)]
        return self.page_events(message)

    def common(self, message: dict, event_type: str) -> dict:
        """Fields every event carries: who, when, where from."""
        context = message.get("context") or {}
        options = self.options(message)
        advertising_id = dig(context, "device.advertisingId")
        device_type = str(dig(context, "device.type") or "").lower()
        return compact(
            {
                "event_type": event_type,
                "user_id": message.get("userId"),
                "device_id": self.device_id(message),
                "time": epoch_ms(message.get("timestamp")),
                "insert_id": message["messageId"],
                "session_id": session_id(options.get("session_id")),
                "ip": context.get("ip"),
                "platform": PLATFORMS.get(device_type)
                or ("Web" if context.get("userAgent") else None),
                "os_name": dig(context, "os.name"),
                "os_version": dig(context, "os.version"),
                "device_brand": dig(context, "device.brand"),
                "device_manufacturer": dig(context, "device.manufacturer"),
                "device_model": dig(context, "device.model"),
                "carrier": dig(context, "network.carrier"),
                "country": dig(context, "location.country"),
                "region": dig(context, "location.region"),
                "city": dig(context, "location.city"),
                "location_lat": dig(context, "location.latitude"),
                "location_lng": dig(context, "location.longitude"),
                "language": context.get("locale"),
                "app_version": dig(context, "app.version"),
                "idfa": advertising_id if device_type == "ios" else None,
                "adid": advertising_id if device_type == "android" else None,
                "groups": options.get("groups"),
            }
        )

    def device_id(self, message: dict) -> str | None:
        device = dig(message, "context.device.id")
        anonymous = message.get("anonymousId")
        if self.settings.get("preferAnonymousIdForDeviceId", False):
            return anonymous or device
        return device or anonymous

    def track_event(self, message: dict) -> dict:
        props = properties(message)
        event = self.common(message, message.get("event") or "")
        event["event_properties"] = props
        revenue = {key: props[key] for key in REVENUE_FIELDS if props.get(key) is not None}
        if self.settings.get("useLogRevenueV2", True) and "revenue" in revenue:
            # Revenue V2 reads price times quantity; a bare revenue is one item at that price.
            if "price" not in revenue:
                revenue.setdefault("quantity", 1)
            revenue.setdefault("price", revenue["revenue"])
        event.update(revenue)
        return event

    def identify_event(self, message: dict) -> dict:
        traits = message.get("traits") or {}
        increment = set(self.settings.get("traitsToIncrement") or [])
        set_once = set(self.settings.get("traitsToSetOnce") or [])
        event = self.common(message, "$identify")
        if increment.intersection(traits) or set_once.intersection(traits):
            # Amplitude does not mix operations with plain properties: all go under operations.
            event["user_properties"] = compact(
                {
                    "$set": {k: v for k, v in traits.items() if k not in increment | set_once},
                    "$add": {k: v for k, v in traits.items() if k in increment},
                    "$setOnce": {k: v for k, v in traits.items() if k in set_once},
                }
            )
        elif traits:
            event["user_properties"] = traits
        return event

    def group_type_and_value(self, message: dict) -> tuple[str, str, bool]:
        """(group type, group value, whether the traits named them) for a group call."""
        traits = message.get("traits") or {}
        type_trait = self.settings.get("groupTypeTrait")
        value_trait = self.settings.get("groupValueTrait")
        if type_trait and value_trait and traits.get(type_trait) and traits.get(value_trait):
            return str(traits[type_trait]), str(traits[value_trait]), True
        return LEGACY_GROUP_TYPE, str(message.get("groupId", "")), False

    def group_event(self, message: dict) -> dict:
        group_type, group_value, _ = self.group_type_and_value(message)
        event = self.common(message, "$identify")
        # The group is also a user property, so it works without Amplitude's Accounts add-on.
        event["groups"] = {group_type: group_value}
        event["user_properties"] = {group_type: group_value}
        return event

    def group_identification(self, message: dict) -> dict | None:
        """The group's properties, when the traits named its type and value (as Segment does)."""
        if message["type"] != "group":
            return None
        group_type, group_value, from_traits = self.group_type_and_value(message)
        traits = message.get("traits") or {}
        if not from_traits or not traits:
            return None
        return {"group_type": group_type, "group_value": group_value, "group_properties": traits}

    def page_event_types(self, message: dict) -> list[str]:
        """Event types for a page or screen call, one per naming setting that applies."""
        noun = "Page" if message.get("type") == "page" else "Screen"
        name = message.get("name") or properties(message).get("name")
        category = message.get("category") or properties(message).get("category")
        types = []
        if self.settings.get("trackAllPages", False):
            types.append(f"Loaded a {noun}")
        if self.settings.get("trackNamedPages", True) and name:
            types.append(" ".join(filter(None, ["Viewed", category, name, noun])))
        if self.settings.get("trackCategorizedPages", True) and category:
            types.append(f"Viewed {category} {noun}")
        return list(dict.fromkeys(types))

    def page_events(self, message: dict) -> list[dict]:
        props = dict(properties(message))
        for key in ("name", "category"):
            if message.get(key):
                props.setdefault(key, message[key])
        events = []
        for n, event_type in enumerate(self.page_event_types(message)):
            event = self.common(message, event_type)
            event["event_properties"] = props
            if n:
                # Amplitude drops repeated insert ids; each extra event needs its own.
                event["insert_id"] = f"{message['messageId']}-{n}"
            events.append(event)
        return events

    # Responses

    def interpret(self, request, status, body):
        if status != 400 or not isinstance(request, ItemizedRequest):
            return super().interpret(request, status, body)
        answer = parse_json_response(body)
        failed: dict[int, str] = {}
        for key, problem in (
            ("events_with_invalid_fields", "invalid"),
            ("events_with_missing_fields", "missing"),
        ):
            for field_name, indexes in (answer.get(key) or {}).items():
                for index in indexes if isinstance(indexes, list) else []:
                    if isinstance(index, int):
                        failed.setdefault(index, f"Amplitude: {problem} field {field_name}")
        if not failed:
            return super().interpret(request, status, body)
        # Amplitude took none of the batch: the other events go again without the bad ones.
        return per_item_result(
            request, failed, others=Verdict.RETRY, others_reason="Amplitude refused the batch"
        )


def session_id(value) -> int | None:
    """Amplitude wants the session's start in epoch milliseconds as a number; integrations
    options sent as JSON often carry it as a string."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
