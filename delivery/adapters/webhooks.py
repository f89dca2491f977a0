"""Webhooks: each event POSTed as JSON to up to five URLs, with custom headers and, with a shared
secret, an ``X-Signature`` header: hex HMAC-SHA1 of the exact body bytes.

Follows https://segment.com/docs/connections/destinations/catalog/webhooks/
"""

import hashlib
import hmac

from delivery.adapters.base import Adapter, PreparedRequest
from delivery.adapters.batching import encode_json

MAX_URLS = 5


class WebhooksAdapter(Adapter):
    slug = "webhooks"
    independent_requests = True
    display_name = "Webhooks"
    signing_settings = frozenset({"sharedSecret"})

    def urls(self) -> list[str]:
        return [url for url in self.settings.get("webhookUrls", []) if url][:MAX_URLS]

    def build_requests(self, messages):
        (message,) = messages
        body = encode_json(message)
        headers = {"Content-Type": "application/json", **self.settings.get("headers", {})}
        if secret := self.settings.get("sharedSecret"):
            headers["X-Signature"] = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return [
            PreparedRequest("POST", url, body, [message["messageId"]], dict(headers))
            for url in self.urls()
        ]
