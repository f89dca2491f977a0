"""Google Analytics 4 Cloud: track, page and screen calls as Measurement Protocol events.

Request shapes follow
- https://developers.google.com/analytics/devguides/collection/protocol/ga4/reference
  (``POST /mp/collect?measurement_id=…&api_secret=…``, or ``firebase_app_id`` with
  ``app_instance_id`` for app streams; ``client_id``, ``user_id``, ``timestamp_micros`` and at
  most 25 events a request; names of letters, digits and underscores, at most 40 characters,
  starting with a letter; reserved names and prefixes; parameter values of at most 100 characters),
- https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events
  (event-level ``timestamp_micros`` overrides the request's; ``session_id`` and
  ``engagement_time_msec`` parameters),
- https://developers.google.com/analytics/devguides/collection/ga4/reference/events (recommended
  event names and the ``items`` array),
and the Segment side follows
https://segment.com/docs/connections/destinations/catalog/actions-google-analytics-4/.

The Measurement Protocol answers 2xx even for payloads it drops, so a delivered verdict only means
Google received the request. To check payloads, point the endpoint setting at
https://www.google-analytics.com/debug: its ``/mp/collect`` validates and records nothing.

Identify calls are not sent: the protocol has no call that only sets user properties (events are
required, user properties ride along with them) and Google's policies forbid the personal data
that Segment traits usually hold. Group and alias calls have no Google Analytics equivalent.
"""

from urllib.parse import urlencode

from delivery.adapters.base import Adapter, PreparedRequest
from delivery.adapters.batching import encode_json, split
from delivery.adapters.mapping import compact, epoch_micros, page_field, properties, snake_case

NAME = "Google Analytics 4 Cloud"
MAX_EVENTS = 25
MAX_BYTES = 130_000 - 1_000  # the documented body limit, less the envelope
MAX_NAME = 40
MAX_VALUE = 100
MAX_PARAMS = 25
# Event names the protocol reserves (its reference lists them); such events are dropped.
RESERVED_NAMES = frozenset({
    "ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "ad_reward",
    "adunit_exposure", "app_background", "app_clear_data", "app_exception", "app_remove",
    "app_store_refund", "app_store_subscription_cancel", "app_store_subscription_convert",
    "app_store_subscription_renew", "app_update", "app_upgrade", "dynamic_link_app_open",
    "dynamic_link_app_update", "dynamic_link_first_open", "error", "first_open", "first_visit",
    "in_app_purchase", "notification_dismiss", "notification_foreground", "notification_open",
    "notification_receive", "os_update", "session_start", "session_start_with_rollout",
    "user_engagement"
})  # fmt: skip
RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
# Segment's spec event names → Google's recommended event names.
RECOMMENDED = {
    "Products Searched": "search",
    "Product List Viewed": "view_item_list",
    "Product Clicked": "select_item",
    "Product Viewed": "view_item",
    "Product Added": "add_to_cart",
    "Product Removed": "remove_from_cart",
    "Product Added to Wishlist": "add_to_wishlist",
    "Product Shared": "share",
    "Cart Viewed": "view_cart",
    "Checkout Started": "begin_checkout",
    "Payment Info Entered": "add_payment_info",
    "Order Completed": "purchase",
    "Order Refunded": "refund",
    "Promotion Viewed": "view_promotion",
    "Promotion Clicked": "select_promotion",
    "Signed Up": "sign_up",
    "Signed In": "login",
}
# Segment ecommerce properties → Google parameters; these leave the generic parameters.
ECOMMERCE_PARAMS = {
    "currency": "currency",
    "order_id": "transaction_id",
    "orderId": "transaction_id",
    "coupon": "coupon",
    "shipping": "shipping",
    "tax": "tax",
    "affiliation": "affiliation",
    "query": "search_term",
    "list_id": "item_list_id",
    "list_name": "item_list_name",
    "promotion_id": "promotion_id",
    "creative": "creative_name",
}
ITEM_FIELDS = {
    "product_id": "item_id",
    "productId": "item_id",
    "sku": "item_id",
    "name": "item_name",
    "brand": "item_brand",
    "category": "item_category",
    "variant": "item_variant",
    "price": "price",
    "quantity": "quantity",
    "coupon": "coupon",
    "position": "index",
}
SINGLE_PRODUCT_EVENTS = {"select_item", "view_item", "add_to_cart", "remove_from_cart",
                         "add_to_wishlist"}  # fmt: skip


def event_name(message: dict) -> str:
    if message.get("type") == "page":
        return "page_view"
    if message.get("type") == "screen":
        return "screen_view"
    event = str(message.get("event") or "")
    return RECOMMENDED.get(event) or snake_case(event, MAX_NAME)


class GoogleAnalytics4Adapter(Adapter):
    slug = "actions-google-analytics-4"
    independent_requests = True
    display_name = NAME
    default_endpoint = "https://www.google-analytics.com"
    batch_size = 100  # messages per build; requests then carry one client's events, 25 at most
    supported_types = frozenset({"track", "page", "screen"})

    def unsupported_reason(self, message):
        kind = message.get("type")
        if kind == "identify":
            return (
                f"identify calls are not supported by {NAME}: the Measurement Protocol sets user "
                "properties only alongside events"
            )
        if kind in ("group", "alias"):
            return f"{kind} calls are not supported by {NAME}: it has no {kind} equivalent"
        if not (self.settings.get("measurementId") or self.settings.get("firebaseAppId")):
            return f"{NAME} needs a Measurement ID or a Firebase App ID setting"
        if kind == "track":
            name = event_name(message)
            if not name or not name[0].isalpha():
                return (
                    f"event {message.get('event')!r} has no valid {NAME} name (start with a letter)"
                )
            if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
                return f"event name {name!r} is reserved by {NAME}"
        return super().unsupported_reason(message)

    @property
    def app_stream(self) -> bool:
        return not self.settings.get("measurementId")

    # Requests

    def build_requests(self, messages):
        # One request body speaks for one client (and user): group the batch by them.
        by_client: dict[tuple, list[tuple[str, dict]]] = {}
        for message in messages:
            key = (self.client_id(message), message.get("userId"))
            by_client.setdefault(key, []).append((message["messageId"], self.event(message)))
        return [
            self.request(client_id, user_id, run)
            for (client_id, user_id), items in by_client.items()
            for run in split(items, MAX_EVENTS, MAX_BYTES)
        ]

    def request(self, client_id, user_id, run) -> PreparedRequest:
        if self.app_stream:
            query = {"firebase_app_id": self.settings.get("firebaseAppId", "")}
            identity = {"app_instance_id": client_id}
        else:
            query = {"measurement_id": self.settings["measurementId"]}
            identity = {"client_id": client_id}
        query["api_secret"] = self.settings.get("apiSecret", "")
        events = [event for _, event in run]
        body = compact(
            {
                **identity,
                "user_id": user_id,
                "timestamp_micros": events[0].get("timestamp_micros"),
                "events": events,
            }
        )
        return PreparedRequest(
            "POST",
            f"{self.endpoint}/mp/collect?{urlencode(query)}",
            encode_json(body),
            [message_id for message_id, _ in run],
            {"Content-Type": "application/json"},
        )

    def client_id(self, message: dict) -> str | None:
        """The integrations option (``client_id``, or ``app_instance_id`` for app streams), else
        the anonymous id, else the user id: GA4 needs a stable id per browser or app instance."""
        options = self.options(message)
        option = options.get("app_instance_id" if self.app_stream else "client_id")
        return option or message.get("anonymousId") or message.get("userId")

    # Events

    def event(self, message: dict) -> dict:
        name = event_name(message)
        if message["type"] == "page":
            params = self.page_params(message)
        elif message["type"] == "screen":
            params = {"screen_name": message.get("name") or properties(message).get("name")}
        else:
            params = self.track_params(name, properties(message))
        options = self.options(message)
        params.update(
            {
                "session_id": options.get("session_id"),
                "engagement_time_msec": options.get("engagement_time_msec"),
            }
        )
        return compact(
            {
                "name": name,
                "params": dict(list(compact(params).items())[:MAX_PARAMS]),
                "timestamp_micros": epoch_micros(message.get("timestamp")),
            }
        )

    def page_params(self, message: dict) -> dict:
        return {
            "page_location": page_field(message, "url"),
            "page_title": page_field(message, "title"),
            "page_referrer": page_field(message, "referrer"),
        }

    def track_params(self, name: str, props: dict) -> dict:
        params: dict = {}
        rest = dict(props)
        for key, param in ECOMMERCE_PARAMS.items():
            if key in rest:
                params.setdefault(param, rest.pop(key))
        value = next((rest.pop(key) for key in ("value", "total", "revenue") if key in rest), None)
        products = rest.pop("products", None)
        if isinstance(products, list):
            params["items"] = [item(product) for product in products if isinstance(product, dict)]
        elif name in SINGLE_PRODUCT_EVENTS:
            params["items"] = [item(props)]
            if value is None and isinstance(props.get("price"), int | float):
                value = props["price"] * (props.get("quantity") or 1)
            rest = {}
        if value is not None:
            params["value"] = value
        for key, raw in rest.items():
            if isinstance(raw, bool | int | float | str) and (param := snake_case(key, MAX_NAME)):
                params.setdefault(param, raw[:MAX_VALUE] if isinstance(raw, str) else raw)
        return params


def item(product: dict) -> dict:
    """A Segment product as a GA4 item."""
    fields: dict = {}
    for key, field_name in ITEM_FIELDS.items():
        if product.get(key) is not None:
            fields.setdefault(field_name, product[key])
    return fields
