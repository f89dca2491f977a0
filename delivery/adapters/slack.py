"""Slack: a message in a channel for each track call, and for identify calls that carry the
whitelisted traits, posted to an incoming webhook.

The request follows https://api.slack.com/messaging/webhooks (``POST`` of ``{"text": …}`` as JSON
to the webhook URL; ``&``, ``<`` and ``>`` escaped in text, per
https://api.slack.com/reference/surfaces/formatting#escaping), and the templates follow
https://segment.com/docs/connections/destinations/catalog/slack/ (default templates, the display
name, identify calls only when every whitelisted trait is present, per-event templates).

Templates take ``{{path}}`` placeholders only, such as ``{{event}}``, ``{{properties.plan}}`` or
``{{traits.email}}`` (``context.traits`` on track calls); identify templates see only the
whitelisted traits, also at the top level (``{{email}}``). Nothing is evaluated: a placeholder is
looked up in the message and its value escaped for Slack; a missing one renders empty. Templates
themselves are not escaped, so they may use Slack's own markup (``<https://example.com|a link>``).
"""

import re

import orjson

from delivery.adapters.base import Adapter, PreparedRequest
from delivery.adapters.batching import encode_json
from delivery.adapters.mapping import dig, person_name, properties, user_traits

DEFAULT_IDENTIFY_TEMPLATE = "Identified {{name}}.\n{{traits}}"
DEFAULT_TRACK_TEMPLATE = "{{name}} did {{event}}."
PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


class SlackAdapter(Adapter):
    slug = "slack"
    independent_requests = True
    display_name = "Slack"
    endpoint_setting = "webhookUrl"  # the webhook URL is the endpoint (and a secret)
    supported_types = frozenset({"identify", "track"})

    def unsupported_reason(self, message):
        if not self.endpoint:
            return "Slack needs the Incoming Webhook URL setting"
        if message.get("type") == "identify":
            wanted = self.settings.get("whiteListedTraits") or []
            if not wanted:
                return "identify calls are sent to Slack only when Whitelisted Traits are set"
            traits = message.get("traits") or {}
            if missing := [trait for trait in wanted if traits.get(trait) in (None, "")]:
                return f"identify call lacks whitelisted trait(s): {', '.join(missing)}"
        return super().unsupported_reason(message)

    def build_requests(self, messages):
        (message,) = messages
        body = encode_json({"text": self.text(message)})
        headers = {"Content-Type": "application/json"}
        return [PreparedRequest("POST", self.endpoint, body, [message["messageId"]], headers)]

    def text(self, message: dict) -> str:
        values = {**message, "name": display_name(message), "traits": user_traits(message)}
        if message["type"] == "identify":
            # Only the whitelisted traits reach Slack, also at the top level ({{email}}).
            wanted = self.settings.get("whiteListedTraits") or []
            traits = {key: (message.get("traits") or {})[key] for key in wanted}
            values = {**values, **traits, "name": values["name"], "traits": traits}
            template = self.settings.get("identifyTemplate") or DEFAULT_IDENTIFY_TEMPLATE
        else:
            templates = self.settings.get("eventTemplates") or {}
            template = templates.get(message.get("event")) or DEFAULT_TRACK_TEMPLATE
        return render(template, values)


def display_name(message: dict) -> str:
    """Segment's choice of a name for the person behind a message."""
    traits = user_traits(message)
    for candidate in (
        person_name(traits),
        traits.get("username"),
        properties(message).get("email"),
        traits.get("email"),
    ):
        if candidate:
            return str(candidate)
    if message.get("userId"):
        return f"User {message['userId']}"
    return f"Anonymous user {message.get('anonymousId', '')}".rstrip()


def render(template: str, values: dict) -> str:
    """``template`` with each ``{{path}}`` replaced by the escaped value at ``path``."""
    return PLACEHOLDER.sub(lambda match: escape(text_of(dig(values, match.group(1)))), template)


def text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        # One "key: value" line each: how the default identify template lists traits.
        return "\n".join(f"{key}: {_inline(item)}" for key, item in value.items())
    return _inline(value)


def _inline(value) -> str:
    if isinstance(value, dict | list):
        return orjson.dumps(value, default=str).decode()
    return text_of(value)


def escape(text: str) -> str:
    """Slack's three control characters in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
