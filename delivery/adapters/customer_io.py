"""Customer.io: the Track API v1, one message per request, HTTP Basic auth with site ID and API key.

- identify → ``PUT /api/v1/customers/{userId}``: the traits as attributes, ``created_at`` in
  Unix seconds, and the ``anonymous_id`` so Customer.io can merge earlier anonymous events.
- track → ``POST /api/v1/customers/{userId}/events`` ``{"name", "data", "timestamp"}``; without
  a userId, ``POST /api/v1/events`` with the ``anonymous_id``.
- page / screen → the same event endpoints with ``"type": "page"`` (name: the page URL) or
  ``"type": "screen"`` (name: the screen name).
- alias → ``POST /api/v1/merge_customers``: the previousId person is merged into the userId person
  (Customer.io deletes the secondary person; the primary must already exist).
- group → not supported: the classic destination takes no group calls.

With ``convertToUnixTime``, ISO 8601 dates in traits and properties become Unix seconds.

Request shapes:
https://docs.customer.io/integrations/api/track/ (Track API v1: customers, events, anonymous
events, merge_customers),
https://segment.com/docs/connections/destinations/catalog/customer-io/ (Segment's mapping).
"""

from urllib.parse import quote

from delivery.adapters.base import Adapter, PreparedRequest
from delivery.adapters.batching import encode_json
from delivery.adapters.mapping import (
    basic_auth,
    dates_to_epoch_seconds,
    epoch_seconds,
    page_field,
    properties,
)

REGIONS = {"US": "https://track.customer.io", "EU": "https://track-eu.customer.io"}


class CustomerIoAdapter(Adapter):
    slug = "customer-io"
    display_name = "Customer.io"
    default_endpoint = REGIONS["US"]
    supported_types = frozenset({"identify", "track", "page", "screen", "alias"})

    def __init__(self, settings: dict, **kwargs):
        super().__init__(settings, **kwargs)
        if not settings.get(self.endpoint_setting):
            self.endpoint = REGIONS.get(settings.get("region") or "US", self.default_endpoint)

    def unsupported_reason(self, message):
        if reason := super().unsupported_reason(message):
            return reason
        kind = message.get("type")
        if kind in ("identify", "alias") and not message.get("userId"):
            return f"{kind} calls need a userId for Customer.io"
        if kind == "alias" and not message.get("previousId"):
            return "alias calls need a previousId for Customer.io"
        if not (message.get("userId") or message.get("anonymousId")):
            return "Customer.io needs a userId or an anonymousId"
        if kind == "screen" and not message.get("name"):
            return "screen calls need a screen name for Customer.io"
        if kind == "page" and not (page_field(message, "url") or message.get("name")):
            return "page calls need a URL or a name for Customer.io"
        return None

    def build_requests(self, messages):
        (message,) = messages
        kind = message["type"]
        if kind == "identify":
            method, path, body = "PUT", _customer_path(message["userId"]), self._attributes(message)
        elif kind == "alias":
            method, path = "POST", "/api/v1/merge_customers"
            body = {
                "primary": {"id": message["userId"]},
                "secondary": {"id": message["previousId"]},
            }
        else:
            method, path, body = "POST", *self._event(message)
        headers = {
            "Content-Type": "application/json",
            "Authorization": basic_auth(
                self.settings.get("siteId", ""), self.settings.get("apiKey", "")
            ),
        }
        return [
            PreparedRequest(
                method,
                self.endpoint + path,
                encode_json(body),
                [message["messageId"]],
                headers,
            )
        ]

    def _convert(self, values: dict) -> dict:
        return (
            dates_to_epoch_seconds(values)
            if self.settings.get("convertToUnixTime", True)
            else values
        )

    def _attributes(self, message: dict) -> dict:
        traits = dict(message.get("traits") or {})
        created = traits.pop("createdAt", None)
        created = traits.pop("created_at", created)
        attributes = self._convert(traits)
        # Customer.io reads created_at as Unix seconds whatever the conversion setting says.
        if created is not None and (seconds := epoch_seconds(created)) is not None:
            attributes["created_at"] = seconds
        if message.get("anonymousId"):
            attributes["anonymous_id"] = message["anonymousId"]
        return attributes

    def _event(self, message: dict) -> tuple[str, dict]:
        kind = message["type"]
        event = {}
        if kind == "track":
            event["name"] = message.get("event", "")
        elif kind == "page":
            event["name"], event["type"] = page_field(message, "url") or message["name"], "page"
        else:
            event["name"], event["type"] = message["name"], "screen"
        event["data"] = self._convert(dict(properties(message)))
        if (seconds := epoch_seconds(message.get("timestamp"))) is not None:
            event["timestamp"] = seconds
        if message.get("userId"):
            return _customer_path(message["userId"]) + "/events", event
        return "/api/v1/events", {**event, "anonymous_id": message["anonymousId"]}


def _customer_path(user_id) -> str:
    return "/api/v1/customers/" + quote(str(user_id), safe="")
