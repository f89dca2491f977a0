"""Mixpanel (Legacy): events through the Import API, people and group profiles through Engage.

Request shapes follow
- https://docs.mixpanel.com/reference/import-events (``POST /import?strict=1``, Basic auth with
  the project's API secret, a JSON array of at most 2,000 events and 10 MB, ``time`` in
  milliseconds, ``$insert_id`` of at most 36 letters, digits and dashes),
- https://docs.mixpanel.com/troubleshooting/errors/400-bad-request (with strict mode a 400 lists
  ``failed_records`` by index and Mixpanel keeps the other events),
- https://docs.mixpanel.com/reference/profile-set and
  https://docs.mixpanel.com/reference/group-set-property (``POST /engage``, ``POST /groups``:
  200 even when an update is refused, so ``verbose=1`` makes the body say so),
- https://docs.mixpanel.com/reference/identity-create-alias (``$create_alias``, which the Import
  API also takes; it only matters to projects on Original ID Merge),
and the mapping of Segment calls follows
https://segment.com/docs/connections/destinations/catalog/mixpanel/ (page naming settings,
identify only with People on, special traits, group calls only for Group Identifier Traits).

The endpoint setting is the API host; the EU setting switches the default to
https://api-eu.mixpanel.com.
"""

import hashlib
import re

from delivery.adapters.base import Adapter, Verdict, verdict_for_status
from delivery.adapters.batching import (
    ItemizedRequest,
    encode_json,
    message_ids,
    parse_json_response,
    per_item_result,
    split,
)
from delivery.adapters.mapping import basic_auth, compact, dig, epoch_ms, properties

EU_ENDPOINT = "https://api-eu.mixpanel.com"
MAX_ITEMS = 2000
MAX_BYTES = 10 * 1024 * 1024 - 1024
NAME = "Mixpanel (Legacy)"
INSERT_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
# Segment traits that Mixpanel knows under its own reserved names.
SPECIAL_TRAITS = {
    "created": "$created",
    "email": "$email",
    "firstName": "$first_name",
    "lastName": "$last_name",
    "name": "$name",
    "username": "$username",
    "phone": "$phone",
}


class MixpanelAdapter(Adapter):
    slug = "mixpanel"
    independent_requests = True
    display_name = NAME
    default_endpoint = "https://api.mixpanel.com"
    batch_size = MAX_ITEMS

    def __init__(self, settings, **kwargs):
        super().__init__(settings, **kwargs)
        if not settings.get(self.endpoint_setting) and settings.get("enableEuropeanUnionEndpoint"):
            self.endpoint = EU_ENDPOINT

    def unsupported_reason(self, message):
        kind = message.get("type")
        if kind == "identify" and not self.settings.get("people", True):
            return f"identify calls are sent to {NAME} only with Use Mixpanel People on"
        if kind == "group" and not self.group_keys(message):
            return (
                f"group calls are sent to {NAME} only when a trait named in Group Identifier "
                "Traits is set"
            )
        if kind in ("page", "screen") and not self.page_event_name(message):
            return f"{kind} calls are sent to {NAME} only when a Track Pages setting applies"
        if kind in ("track", "page", "screen", "alias") and not self.settings.get("apiKey"):
            return f"{kind} calls need the API Secret setting: {NAME}'s Import API requires it"
        return super().unsupported_reason(message)

    # Requests

    def build_requests(self, messages):
        imports, people, groups = [], [], []
        for message in messages:
            message_id = message["messageId"]
            if message["type"] == "identify":
                people.append((message_id, self.profile_update(message)))
            elif message["type"] == "group":
                groups.extend((message_id, update) for update in self.group_updates(message))
            else:
                imports.append((message_id, self.import_event(message)))
        requests = [
            self.request("/import?strict=1", run, auth=True)
            for run in split(imports, MAX_ITEMS, MAX_BYTES)
        ]
        for path, updates in (("/engage?verbose=1", people), ("/groups?verbose=1", groups)):
            requests.extend(self.request(path, run) for run in split(updates, MAX_ITEMS, MAX_BYTES))
        return requests

    def request(self, path: str, run, *, auth: bool = False) -> ItemizedRequest:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = basic_auth(self.settings.get("apiKey", ""), "")
        return ItemizedRequest(
            "POST",
            f"{self.endpoint}{path}",
            encode_json([item for _, item in run]),
            message_ids(run),
            headers,
            item_message_ids=[message_id for message_id, _ in run],
        )

    # Events

    def import_event(self, message: dict) -> dict:
        token = self.settings.get("token", "")
        common = {
            "time": epoch_ms(message.get("timestamp")),
            "$insert_id": insert_id(message["messageId"]),
            "token": token,
        }
        if message["type"] == "alias":
            return {
                "event": "$create_alias",
                "properties": compact(
                    {
                        "distinct_id": message.get("previousId"),
                        "alias": message.get("userId"),
                        **common,
                    }
                ),
            }
        props = dict(properties(message))
        if message["type"] == "track":
            name = message.get("event") or ""
        else:
            name = self.page_event_name(message)
            for key in ("name", "category"):
                if message.get(key):
                    props.setdefault(key, message[key])
        return {
            "event": name,
            "properties": compact(
                {
                    **context_properties(message),
                    "segment_source_name": self.settings.get("sourceName"),
                    **props,
                    "distinct_id": message.get("userId") or message.get("anonymousId"),
                    **common,
                }
            ),
        }

    def page_event_name(self, message: dict) -> str | None:
        """One event per page or screen call; the settings are tried in Segment's order."""
        noun = "Page" if message.get("type") == "page" else "Screen"
        name = message.get("name") or properties(message).get("name")
        category = message.get("category") or properties(message).get("category")
        if self.settings.get("consolidatedPageCalls", False) or self.settings.get(
            "trackAllPages", False
        ):
            return f"Loaded a {noun}"
        if self.settings.get("trackCategorizedPages", False) and category:
            return " ".join(filter(None, ["Viewed", category, name, noun]))
        if self.settings.get("trackNamedPages", False) and name:
            return f"Viewed {name} {noun}"
        return None

    def profile_update(self, message: dict) -> dict:
        traits = message.get("traits") or {}
        if not self.settings.get("setAllTraitsByDefault", True):
            chosen = set(self.settings.get("peopleProperties") or []) | SPECIAL_TRAITS.keys()
            traits = {k: v for k, v in traits.items() if k in chosen}
        update = {
            "$token": self.settings.get("token", ""),
            "$distinct_id": message.get("userId") or message.get("anonymousId"),
            "$set": {SPECIAL_TRAITS.get(k, k): v for k, v in traits.items()},
        }
        if ip := dig(message, "context.ip"):
            update["$ip"] = ip
        if dig(message, "context.active") is False:
            update["$ignore_time"] = True  # leave the profile's Last Seen alone
        return update

    def group_keys(self, message: dict) -> list[str]:
        traits = message.get("traits") or {}
        keys = self.settings.get("groupIdentifierTraits") or []
        return [key for key in keys if traits.get(key) not in (None, "")]

    def group_updates(self, message: dict) -> list[dict]:
        traits = message.get("traits") or {}
        return [
            {
                "$token": self.settings.get("token", ""),
                "$group_key": key,
                "$group_id": str(traits[key]),
                "$set": traits,
            }
            for key in self.group_keys(message)
        ]

    # Responses

    def interpret(self, request, status, body):
        if request.url.startswith(f"{self.endpoint}/import"):
            return self.interpret_import(request, status, body)
        if verdict_for_status(status) == Verdict.DELIVERED:
            answer = parse_json_response(body)
            if answer.get("status") != 1:
                error = answer.get("error") or body[:200].decode(errors="replace")
                reason = f"{NAME} refused the update: {error}"
                return per_item_result(request, {}, others=Verdict.DISCARD, others_reason=reason)
        return super().interpret(request, status, body)

    def interpret_import(self, request, status, body):
        records = parse_json_response(body).get("failed_records")
        if status != 400 or not isinstance(records, list) or not records:
            return super().interpret(request, status, body)
        failed = {
            record["index"]: f"{NAME}: {record.get('message', 'invalid event')}"
            for record in records
            if isinstance(record, dict) and isinstance(record.get("index"), int)
        }
        # Mixpanel kept every event that passed validation.
        return per_item_result(request, failed, others=Verdict.DELIVERED)


def insert_id(message_id: str) -> str:
    """Mixpanel's deduplication key: the message id when it fits Mixpanel's rules, else a stable
    hash of it."""
    if INSERT_ID.match(message_id):
        return message_id
    return hashlib.sha256(message_id.encode()).hexdigest()[:36]


def context_properties(message: dict) -> dict:
    """Mixpanel's default properties, read from the message's context."""
    context = message.get("context") or {}
    campaign = context.get("campaign") or {}
    library = dig(context, "library.name")
    return {
        "ip": context.get("ip"),
        "$current_url": dig(context, "page.url"),
        "$referrer": dig(context, "page.referrer"),
        "$os": dig(context, "os.name"),
        "$manufacturer": dig(context, "device.manufacturer"),
        "$model": dig(context, "device.model"),
        "$carrier": dig(context, "network.carrier"),
        "$screen_width": dig(context, "screen.width"),
        "$screen_height": dig(context, "screen.height"),
        "$app_version_string": dig(context, "app.version"),
        "$app_build_number": dig(context, "app.build"),
        "$city": dig(context, "location.city"),
        "$region": dig(context, "location.region"),
        "mp_lib": f"Segment: {library}" if library else None,
        "utm_source": campaign.get("source"),
        "utm_medium": campaign.get("medium"),
        "utm_campaign": campaign.get("name"),
        "utm_term": campaign.get("term"),
        "utm_content": campaign.get("content"),
    }
