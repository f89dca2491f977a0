"""Intercom: the REST API (version 2.11) with ``Authorization: Bearer <access token>``.

- identify → ``POST /contacts/search`` by ``external_id`` (userId; by ``email`` without one),
  then ``PUT /contacts/{id}`` for the contact found or ``POST /contacts`` (role ``user``) for a
  new one: Intercom creates contacts but updates them only by its own id. Special traits map to
  contact fields (email, phone, name or firstName + lastName, avatar, createdAt → signed_up_at);
  the other flat traits become custom attributes (which must exist in Intercom). With
  ``"active": true`` in the context, ``last_seen_at`` is the call's time (or
  ``traits.lastRequestAt``). "Include Context with Identify Calls" adds device, OS and app
  fields as custom attributes. The integrations object's ``{"Intercom":
  {"unsubscribedFromEmails": true}}`` sets ``unsubscribed_from_emails``.
- track → ``POST /events`` ``{"event_name", "created_at", "user_id" | "email", "metadata"}``.
  Intercom takes no nested metadata: objects and lists are dropped, except ``revenue`` with
  ``currency`` (sent as ``price: {"amount": cents, "currency"}``) and the properties named in
  "Rich Link Properties" (``{"url", "value"}``); then only the first 10 keys are kept.
- group → ``POST /companies`` (created or updated by ``company_id`` = groupId), then the user's
  contact is looked up as for identify and attached with ``POST /contacts/{id}/companies``.
- page, screen, alias → not supported (Segment sends page only in device mode).

A 404 (no such contact) or 409 (a matching contact already exists) is discarded with Intercom's
message as the reason.

Request shapes:
https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/contacts
(search, create, update, attach a company),
https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/data-events,
https://developers.intercom.com/docs/references/2.11/rest-api/api.intercom.io/companies,
https://segment.com/docs/connections/destinations/catalog/intercom/ (Segment's mapping).
"""

from dataclasses import dataclass, field
from urllib.parse import quote

from delivery.adapters.base import Adapter, PreparedRequest, Result, Verdict
from delivery.adapters.batching import encode_json, parse_json_response
from delivery.adapters.mapping import (
    epoch_seconds,
    flat,
    person_name,
    properties,
    user_email,
    user_traits,
)

API_VERSION = "2.11"
MAX_METADATA_KEYS = 10
CONTACT_TRAITS = {"email", "phone", "name", "firstName", "lastName", "avatar", "createdAt",
                  "company", "id", "lastRequestAt"}  # fmt: skip
COMPANY_TRAITS = {"name", "plan", "monthly_spend", "monthlySpend", "employees", "website",
                  "industry", "createdAt"}  # fmt: skip
CONTEXT_ATTRIBUTES = {
    ("device", "type"): "device_type", ("device", "manufacturer"): "device_manufacturer",
    ("device", "model"): "device_model", ("os", "name"): "os_name",
    ("os", "version"): "os_version", ("app", "name"): "app_name", ("app", "version"): "app_version",
}  # fmt: skip


@dataclass
class IntercomRequest(PreparedRequest):
    # A step of a chain ("contact-lookup", "company-upsert", "group-lookup") and what the next
    # request needs.
    step: str = ""
    state: dict = field(default_factory=dict)


class IntercomAdapter(Adapter):
    slug = "intercom"
    display_name = "Intercom"
    default_endpoint = "https://api.intercom.io"
    supported_types = frozenset({"identify", "track", "group"})

    def unsupported_reason(self, message):
        if reason := super().unsupported_reason(message):
            return reason
        kind = message.get("type")
        if kind in ("identify", "track") and not _who(message):
            return f"{kind} calls need a userId or an email for Intercom"
        if kind == "group" and not message.get("groupId"):
            return "group calls need a groupId for Intercom"
        return None

    def build_requests(self, messages):
        (message,) = messages
        ids, kind = [message["messageId"]], message["type"]
        if kind == "identify":
            return [
                self._lookup(message, ids, "contact-lookup", {"contact": self._contact(message)})
            ]
        if kind == "track":
            return [self._request("POST", "/events", self._event(message), ids)]
        return [
            self._request(
                "POST",
                "/companies",
                self._company(message),
                ids,
                step="company-upsert",
                state={"message": {k: message.get(k) for k in ("userId", "traits", "context")}},
            )
        ]

    def interpret(self, request, status, body):
        result = super().interpret(request, status, body)
        if status in (404, 409):
            result.reason = f"HTTP {status}: {_error_message(body)}"
        step = getattr(request, "step", "")
        if result.verdict != Verdict.DELIVERED or not step:
            return result
        answer = parse_json_response(body)
        ids = request.message_ids
        if step == "contact-lookup":
            found = _first_id(answer)
            method, path = (
                ("PUT", f"/contacts/{quote(found, safe='')}") if found else ("POST", "/contacts")
            )
            result.follow_up = [self._request(method, path, request.state["contact"], ids)]
        elif step == "company-upsert":
            message = request.state["message"]
            if answer.get("id") and _who(message):
                state = {"company": answer["id"]}
                result.follow_up = [self._lookup(message, ids, "group-lookup", state)]
        elif step == "group-lookup":
            found = _first_id(answer)
            if not found:
                return Result(
                    Verdict.DISCARD,
                    "the company was saved, but no Intercom contact matches this user to attach it to",
                )
            path = f"/contacts/{quote(found, safe='')}/companies"
            result.follow_up = [self._request("POST", path, {"id": request.state["company"]}, ids)]
        return result

    def _request(self, method, path, body, ids, step="", state=None) -> IntercomRequest:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {self.settings.get('apiKey', '')}",
            "Intercom-Version": API_VERSION,
        }
        return IntercomRequest(
            method, self.endpoint + path, encode_json(body), list(ids), headers, step,
            state or {},
        )  # fmt: skip

    def _lookup(self, message: dict, ids, step: str, state: dict) -> IntercomRequest:
        field_name, value = _who(message)
        query = {"query": {"field": field_name, "operator": "=", "value": value}}
        return self._request("POST", "/contacts/search", query, ids, step, state)

    def _contact(self, message: dict) -> dict:
        traits = user_traits(message)
        contact = {"role": "user"}
        if message.get("userId"):
            contact["external_id"] = str(message["userId"])
        for key in ("email", "phone", "avatar"):
            if traits.get(key):
                contact[key] = traits[key]
        if name := person_name(traits):
            contact["name"] = name
        if (signed_up := epoch_seconds(traits.get("createdAt"))) is not None:
            contact["signed_up_at"] = signed_up
        context = message.get("context") or {}
        if context.get("active") is True:
            seen = epoch_seconds(traits.get("lastRequestAt") or message.get("timestamp"))
            if seen is not None:
                contact["last_seen_at"] = seen
        options = self.options(message)
        if "unsubscribedFromEmails" in options:
            contact["unsubscribed_from_emails"] = bool(options["unsubscribedFromEmails"])
        custom = flat({k: v for k, v in traits.items() if k not in CONTACT_TRAITS})
        if self.settings.get("collectContext"):
            for (section, key), name in CONTEXT_ATTRIBUTES.items():
                value = (context.get(section) or {}).get(key)
                if value is not None:
                    custom[name] = value
        if custom:
            contact["custom_attributes"] = custom
        return contact

    def _event(self, message: dict) -> dict:
        event = {
            "event_name": message.get("event", ""),
            "created_at": epoch_seconds(message.get("timestamp")),
        }
        field_name, value = _who(message)
        event["user_id" if field_name == "external_id" else "email"] = value
        props = dict(properties(message))
        metadata = {}
        if "revenue" in props and props.get("currency"):
            try:
                amount = round(float(props.pop("revenue")) * 100)
                metadata["price"] = {"amount": amount, "currency": props.pop("currency")}
            except (TypeError, ValueError):
                pass
        rich = set(self.settings.get("richLinkProperties") or [])
        for key, value in props.items():
            if isinstance(value, dict) and key in rich and {"url", "value"} <= value.keys():
                metadata[key] = {"url": value["url"], "value": value["value"]}
            elif not isinstance(value, dict | list):
                metadata[key] = value
        if metadata:
            event["metadata"] = dict(list(metadata.items())[:MAX_METADATA_KEYS])
        return {k: v for k, v in event.items() if v is not None}

    def _company(self, message: dict) -> dict:
        traits = dict(message.get("traits") or {})
        company = {"company_id": str(message["groupId"])}
        for key in ("name", "plan", "website", "industry"):
            if traits.get(key):
                company[key] = traits[key]
        spend = traits.get("monthly_spend", traits.get("monthlySpend"))
        if spend is not None:
            company["monthly_spend"] = spend
        if traits.get("employees") is not None:
            company["size"] = traits["employees"]
        if (created := epoch_seconds(traits.get("createdAt"))) is not None:
            company["remote_created_at"] = created
        custom = flat({k: v for k, v in traits.items() if k not in COMPANY_TRAITS})
        if custom:
            company["custom_attributes"] = custom
        return company


def _who(message: dict) -> tuple[str, str] | None:
    """How Intercom finds the user: (search field, value)."""
    if message.get("userId"):
        return "external_id", str(message["userId"])
    if email := user_email(message):
        return "email", email
    return None


def _first_id(answer: dict) -> str | None:
    data = answer.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("id"):
        return str(data[0]["id"])
    return None


def _error_message(body: bytes) -> str:
    errors = parse_json_response(body).get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("code"))[:300]
    return body[:300].decode(errors="replace")
