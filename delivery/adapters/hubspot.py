"""HubSpot: the CRM v3 and custom events APIs with a private app token as ``Authorization: Bearer``.

- identify → ``POST /crm/v3/objects/contacts/batch/upsert``, up to 100 contacts per request, each
  ``{"idProperty": "email", "id": <traits.email>, "properties": {...}}`` (identifies of one email
  in a batch are merged, later traits winning). Trait names become HubSpot property names:
  lower case, spaces as underscores, Segment's special traits renamed (firstName → firstname,
  lastName → lastname, company / companyName / company.name → company, position / title →
  jobtitle, address.street / city / state / postalCode / country, lifecycle_stage →
  lifecyclestage); objects are left out, lists joined with ``;``. Without an email: not supported.
- track → ``POST /events/v3/send`` (custom behavioral events) ``{"eventName", "email",
  "occurredAt", "properties"}``, the email from ``properties.email`` or ``context.traits.email``.
  An event named like ``pe<HubID>_name`` is sent as is; any other name as
  ``pe<HubID>_<name in snake case>``, the internal name HubSpot gives an event defined with that
  name (the event and its properties must be defined in HubSpot).
- page, screen (device mode only at Segment), group and alias → not supported.

Batch answers that name failed inputs (207 Multi-Status, or a 400 whose errors carry ``ids`` or a
``propertyName``) discard only the contacts concerned; after a 400 the others are sent again.

Request shapes:
https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts,
https://developers.hubspot.com/docs/api/analytics/events (send custom event completions),
https://developers.hubspot.com/docs/api-reference/error-handling (207 Multi-Status),
https://segment.com/docs/connections/destinations/catalog/hubspot/ (Segment's mapping).
"""

import re
from dataclasses import dataclass, field

from delivery.adapters.base import Adapter, PreparedRequest, Verdict
from delivery.adapters.batching import encode_json, parse_json_response
from delivery.adapters.mapping import email_in, iso_utc, properties, user_email

EU_ENDPOINT = "https://api-eu1.hubapi.com"
RENAMED = {
    "firstName": "firstname", "first_name": "firstname", "lastName": "lastname",
    "last_name": "lastname", "companyName": "company", "position": "jobtitle", "title": "jobtitle",
    "lifecycle_stage": "lifecyclestage", "postalCode": "zip", "postal_code": "zip",
}  # fmt: skip
ADDRESS = {"street": "address", "city": "city", "state": "state", "postalCode": "zip",
           "postal_code": "zip", "zip": "zip", "country": "country"}  # fmt: skip


@dataclass
class HubSpotRequest(PreparedRequest):
    # Lower-cased email → the message ids merged into that input; message id → property names.
    inputs: dict[str, list[str]] = field(default_factory=dict)
    properties: dict[str, set[str]] = field(default_factory=dict)


class HubSpotAdapter(Adapter):
    slug = "hubspot"
    display_name = "HubSpot"
    default_endpoint = "https://api.hubapi.com"
    batch_size = 100
    supported_types = frozenset({"identify", "track"})

    def __init__(self, settings: dict, **kwargs):
        super().__init__(settings, **kwargs)
        if not settings.get(self.endpoint_setting) and settings.get("enableEuDataCenterMobile"):
            self.endpoint = EU_ENDPOINT

    def unsupported_reason(self, message):
        kind = message.get("type")
        if kind in ("page", "screen"):
            return f"{kind} calls reach HubSpot only in device mode"
        if reason := super().unsupported_reason(message):
            return reason
        if kind == "identify" and not email_in(message.get("traits")):
            return "identify calls need traits.email for HubSpot, which finds contacts by email"
        if kind == "track" and not user_email(message):
            return "track calls need properties.email for HubSpot"
        if kind == "track" and not message.get("event"):
            return "track calls need an event name for HubSpot"
        return None

    def build_requests(self, messages):
        identifies = [m for m in messages if m["type"] == "identify"]
        requests = [self._upsert(identifies)] if identifies else []
        requests += [self._event(m) for m in messages if m["type"] == "track"]
        return requests

    def interpret(self, request, status, body):
        result = super().interpret(request, status, body)
        if not isinstance(request, HubSpotRequest) or result.verdict == Verdict.RETRY:
            return result
        failed = self._failed(request, parse_json_response(body))
        if not failed:
            return result
        result.per_message = {mid: (Verdict.DISCARD, reason) for mid, reason in failed.items()}
        if result.verdict == Verdict.DISCARD:
            # HubSpot refused the whole batch for these contacts; the others go again without them.
            for mid in request.message_ids:
                result.per_message.setdefault(
                    mid, (Verdict.RETRY, "sent again without the contacts HubSpot refused")
                )
        return result

    def _headers(self) -> dict:
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.settings.get('privateAppToken', '')}",
        }

    def _upsert(self, messages: list[dict]) -> HubSpotRequest:
        merged: dict[str, dict] = {}
        owners: dict[str, list[str]] = {}
        names: dict[str, set[str]] = {}
        for message in messages:
            email = email_in(message["traits"])
            key = email.lower()
            values = contact_properties(message["traits"])
            entry = merged.setdefault(key, {"idProperty": "email", "id": email, "properties": {}})
            entry["properties"].update(values)
            owners.setdefault(key, []).append(message["messageId"])
            names[message["messageId"]] = set(values)
        return HubSpotRequest(
            "POST",
            self.endpoint + "/crm/v3/objects/contacts/batch/upsert",
            encode_json({"inputs": list(merged.values())}),
            [m["messageId"] for m in messages],
            self._headers(),
            inputs=owners,
            properties=names,
        )

    def _event(self, message: dict) -> PreparedRequest:
        props = dict(properties(message))
        props.pop("email", None)
        body = {
            "eventName": self._event_name(message["event"]),
            "email": user_email(message),
            "occurredAt": iso_utc(message.get("timestamp")),
            "properties": _property_values(props),
        }
        body = {k: v for k, v in body.items() if v is not None}
        return PreparedRequest(
            "POST",
            self.endpoint + "/events/v3/send",
            encode_json(body),
            [message["messageId"]],
            self._headers(),
        )

    def _event_name(self, event: str) -> str:
        if re.match(r"^pe\d+_", event):
            return event
        name = re.sub(r"[^a-z0-9]+", "_", event.lower()).strip("_")
        return f"pe{self.settings.get('portalId', '')}_{name}"

    def _failed(self, request: HubSpotRequest, answer: dict) -> dict[str, str]:
        """Message id → reason for the inputs HubSpot's errors name, by id or property."""
        entries = answer.get("errors") if isinstance(answer.get("errors"), list) else []
        if answer.get("status") == "error":
            entries = [answer, *entries]
        failed = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            reason = f"HubSpot: {entry.get('message') or entry.get('category')}"[:300]
            ids, props = _context_values(entry)
            for email in ids:
                for mid in request.inputs.get(email.lower(), []):
                    failed[mid] = reason
            for mid, names in request.properties.items():
                if names & props:
                    failed[mid] = reason
        return failed


def contact_properties(traits: dict) -> dict:
    """Traits as HubSpot contact properties."""
    props = {}
    for key, value in traits.items():
        if key in ("email", "createdAt", "created_at"):
            continue  # the email is the input's id; HubSpot sets the creation date itself
        if key == "address" and isinstance(value, dict):
            for part, name in ADDRESS.items():
                if value.get(part) not in (None, ""):
                    props[name] = value[part]
            continue
        if key == "company" and isinstance(value, dict):
            value = value.get("name")
            if value is None:
                continue
        props[RENAMED.get(key, key)] = value
    return _property_values(props)


def _property_values(values: dict) -> dict:
    """HubSpot property names (lower case, no spaces) and values (no objects, lists as a;b)."""
    out = {}
    for key, value in values.items():
        if isinstance(value, dict) or value is None:
            continue
        if isinstance(value, list):
            value = ";".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out[re.sub(r"\s+", "_", str(key).strip()).lower()] = value
    return out


def _context_values(entry: dict) -> tuple[set[str], set[str]]:
    """The ids and property names an error's context (or its sub-errors' contexts) names."""
    ids, props = set(), set()
    contexts = [entry.get("context")]
    contexts += [e.get("context") for e in entry.get("errors") or [] if isinstance(e, dict)]
    for context in contexts:
        if not isinstance(context, dict):
            continue
        for key, target in (("ids", ids), ("id", ids), ("propertyName", props)):
            value = context.get(key)
            values = value if isinstance(value, list) else [value] if value else []
            target.update(str(v) for v in values)
    return ids, props
