"""Braze: ``POST {REST endpoint}/users/track`` with ``Authorization: Bearer <REST API key>``, up to
75 attribute, 75 event and 75 purchase objects per request.

- Users: ``external_id`` = userId; without one, the ``braze_id`` the integrations object passes
  (``{"Braze": {"braze_id": ...}}``); without that, a user alias ``{"alias_name": anonymousId,
  "alias_label": "anonymous_id"}``. Alias-only objects say ``"_update_existing_only": false`` so
  Braze creates the user; the "Update Existing Users Only" setting sets it to true everywhere.
- identify → an attributes object: Segment's special traits become Braze profile fields
  (firstName → first_name, lastName → last_name, birthday → dob, avatar → image_url,
  address.city → home_city, address.country → country, gender, email, phone); other traits are
  custom attributes, nested objects left out.
- track → an event ``{"name", "time", "properties"}`` without Braze's reserved keys;
  "Order Completed" with products → one purchase per product; with "Log Purchase when Revenue is
  present", any event with a revenue → a purchase whose product_id is the event name.
- page → an event ("Viewed <name> Page", or "Loaded a Page") with "Track All Pages", or for
  named pages with "Track Only Named Pages"; otherwise, and for screen and alias: not supported.
- group → the custom attribute ``ab_segment_group_<groupId>: true``.

A 2xx answer may list non-fatal errors (``{"type", "input_array", "index"}``): only the
messages behind those objects are discarded.

Request shapes:
https://www.braze.com/docs/api/endpoints/user_data/post_user_track/,
https://www.braze.com/docs/api/objects_filters/user_attributes_object/,
https://www.braze.com/docs/api/errors/ (non-fatal errors),
https://segment.com/docs/connections/destinations/catalog/braze/ (Segment's mapping).
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from delivery.adapters.base import Adapter, PreparedRequest, Verdict
from delivery.adapters.batching import encode_json, parse_json_response
from delivery.adapters.mapping import (
    format_iso_utc,
    iso_utc,
    parse_timestamp_or_unix,
    properties,
)

ARRAYS = ("attributes", "events", "purchases")
# Properties Braze reserves on events and purchases; Segment leaves them out.
RESERVED_EVENT_KEYS = {"time", "quantity", "event_name", "price", "currency"}
RESERVED_PURCHASE_KEYS = {"time", "product_id", "quantity", "event_name", "price", "currency"}
PROFILE_FIELDS = {
    "firstName": "first_name", "first_name": "first_name", "lastName": "last_name",
    "last_name": "last_name", "birthday": "dob", "avatar": "image_url", "gender": "gender",
    "email": "email", "phone": "phone",
}  # fmt: skip
GENDERS = {
    "m": "M", "male": "M", "man": "M", "f": "F", "female": "F", "woman": "F", "o": "O",
    "other": "O", "n": "N", "not applicable": "N", "p": "P", "prefer not to say": "P",
    "u": "U", "unknown": "U",
}  # fmt: skip


def rest_endpoint(datacenter: str | None) -> str:
    """The REST endpoint of a Braze cluster named like ``US-03``, ``us03``, ``eu`` or ``EU-02``."""
    key = re.sub(r"[\s_-]", "", (datacenter or "").lower())
    match = re.fullmatch(r"(us|eu|au|id|jp)(\d{2})?", key or "us")
    if not match:
        return ""  # unknown: never guess a cluster (an EU workspace's data must not go to the US)
    region, number = match.group(1), int(match.group(2) or 1)
    if region == "us":
        return (
            f"https://rest.iad-{number:02d}.braze.com"
            if number <= 8
            else f"https://rest.us-{number:02d}.braze.com"
        )
    if region == "eu":
        return f"https://rest.fra-{number:02d}.braze.eu"
    return f"https://rest.{region}-{number:02d}.braze.com"


@dataclass
class BrazeRequest(PreparedRequest):
    # For each array of the body, the message id behind each object, to read errors by index.
    owners: dict[str, list[str]] = field(default_factory=dict)


class BrazeAdapter(Adapter):
    slug = "braze"
    display_name = "Braze"
    default_endpoint = "https://rest.iad-01.braze.com"
    endpoint_setting = "restCustomEndpoint"
    batch_size = 75  # a message yields at most one attribute object or event (or purchases)
    supported_types = frozenset({"identify", "track", "page", "group"})

    def __init__(self, settings: dict, **kwargs):
        super().__init__(settings, **kwargs)
        if not settings.get(self.endpoint_setting):
            self.endpoint = rest_endpoint(settings.get("datacenter"))

    def unsupported_reason(self, message):
        if reason := super().unsupported_reason(message):
            return reason
        if not self.endpoint:
            return "Braze's Data Center setting names no known cluster: set a REST endpoint"
        if message.get("type") == "page" and not self._page_event_name(message):
            return "page calls reach Braze only with Track All Pages, or Track Only Named Pages for named pages"
        if not self._identity(message):
            return "Braze needs a userId, a braze_id or an anonymousId"
        return None

    def build_requests(self, messages):
        arrays: dict[str, list[dict]] = {name: [] for name in ARRAYS}
        owners: dict[str, list[str]] = {name: [] for name in ARRAYS}
        for message in messages:
            for array, item in self._objects(message):
                arrays[array].append(item)
                owners[array].append(message["messageId"])
        requests, start = [], 0
        # Order Completed may yield many purchases: split so no array passes 75 objects.
        while any(len(arrays[name]) > start for name in ARRAYS):
            body = {
                name: arrays[name][start : start + 75] for name in ARRAYS if arrays[name][start:]
            }
            part = {name: owners[name][start : start + 75] for name in body}
            ids = list(dict.fromkeys(mid for name in ARRAYS for mid in part.get(name, [])))
            requests.append(
                BrazeRequest(
                    "POST",
                    self.endpoint + "/users/track",
                    encode_json(body),
                    ids,
                    {
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {self.settings.get('appGroupId', '')}",
                    },
                    owners=part,
                )
            )
            start += 75
        return requests

    def interpret(self, request, status, body):
        result = super().interpret(request, status, body)
        if result.verdict != Verdict.DELIVERED or not isinstance(request, BrazeRequest):
            return result
        errors = parse_json_response(body).get("errors") or []
        for error in errors if isinstance(errors, list) else []:
            if not isinstance(error, dict):
                continue
            owners = request.owners.get(error.get("input_array"), [])
            index = error.get("index")
            if isinstance(index, int) and 0 <= index < len(owners):
                reason = f"Braze rejected {error['input_array']}[{index}]: {error.get('type')}"
                result.per_message[owners[index]] = (Verdict.DISCARD, reason[:300])
        return result

    # Objects for one message: (array name, object) pairs.
    def _objects(self, message: dict) -> list[tuple[str, dict]]:
        kind, user = message["type"], self._identity(message)
        if kind == "identify":
            return [("attributes", {**user, **self._attributes(message)})]
        if kind == "group":
            return [("attributes", {**user, f"ab_segment_group_{message.get('groupId')}": True})]
        props = properties(message)
        time = _time(message)
        if kind == "page":
            name = self._page_event_name(message)
            return [("events", {**user, "name": name, "time": time, "properties": props})]
        event = message.get("event", "")
        if event == "Order Completed" and isinstance(props.get("products"), list):
            currency = props.get("currency") or "USD"
            return [
                ("purchases", {**user, **_purchase(product, currency, time)})
                for product in props["products"]
                if isinstance(product, dict)
            ]
        if self.settings.get("logPurchaseWhenRevenuePresent") and "revenue" in props:
            purchase = {
                "product_id": event,
                "currency": props.get("currency") or "USD",
                "price": _number(props.get("revenue")),
                "quantity": 1,
                "time": time,
                "properties": _without(props, RESERVED_PURCHASE_KEYS | {"revenue"}),
            }
            return [("purchases", {**user, **purchase})]
        clean = _without(props, RESERVED_EVENT_KEYS)
        return [("events", {**user, "name": event, "time": time, "properties": clean})]

    def _identity(self, message: dict) -> dict:
        update_only = self.settings.get("updateExistingOnly", False)
        if message.get("userId"):
            user = {"external_id": str(message["userId"])}
        elif braze_id := self.options(message).get("braze_id"):
            user = {"braze_id": str(braze_id)}
        elif message.get("anonymousId"):
            alias = {"alias_name": str(message["anonymousId"]), "alias_label": "anonymous_id"}
            # Braze only updates existing alias-only users unless told otherwise.
            return {"user_alias": alias, "_update_existing_only": bool(update_only)}
        else:
            return {}
        return {**user, "_update_existing_only": True} if update_only else user

    def _attributes(self, message: dict) -> dict:
        traits = dict(message.get("traits") or {})
        attributes = {}
        address = traits.pop("address", None)
        if isinstance(address, dict):
            if address.get("city"):
                attributes["home_city"] = address["city"]
            if address.get("country"):
                attributes["country"] = address["country"]
        for key, value in traits.items():
            if isinstance(value, dict):
                continue  # Braze takes no nested objects from Segment's traits
            name = PROFILE_FIELDS.get(key, key)
            if name == "gender" and isinstance(value, str):
                value = GENDERS.get(value.strip().lower(), value)
            elif name == "dob":
                value = _date(value)
            attributes[name] = value
        return attributes

    def _page_event_name(self, message: dict) -> str | None:
        name = message.get("name")
        if name and (self.settings.get("trackAllPages") or self.settings.get("trackNamedPages")):
            return f"Viewed {name} Page"
        if self.settings.get("trackAllPages"):
            return "Loaded a Page"
        return None


def _purchase(product: dict, currency: str, time: str) -> dict:
    product_id = product.get("product_id") or product.get("sku") or product.get("name") or ""
    return {
        "product_id": str(product_id),
        "currency": product.get("currency") or currency,
        "price": _number(product.get("price")),
        "quantity": int(_number(product.get("quantity"), 1)),
        "time": time,
        "properties": _without(product, RESERVED_PURCHASE_KEYS),
    }


def _without(values: dict, keys: set[str]) -> dict:
    return {key: value for key, value in values.items() if key not in keys}


def _number(value, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _time(message: dict) -> str:
    return iso_utc(message.get("timestamp")) or format_iso_utc(datetime.now(UTC))


def _date(value):
    """Braze reads dob as YYYY-MM-DD."""
    parsed = parse_timestamp_or_unix(value)
    return parsed.date().isoformat() if parsed else value
