"""The replay rules (seed 000: Replay is part of the Business plan), in one place for the console,
the Public API and admin. Each ``refuse_*`` returns None when the replay is allowed, or a Refusal
that names the rule and says why; ``delivery.replays`` checks them before it writes."""

from datetime import datetime

from django.conf import settings

from segapp.models import Plan
from segapp.refusal import Refusal

REPLAY_PLANS = {Plan.BUSINESS}
EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")


def refuse_plan(plan: str) -> Refusal | None:
    if plan not in REPLAY_PLANS:
        return Refusal(
            "Replay is part of the Business plan: upgrade the workspace to replay archived events.",
            rule="replay-plan",
            status=403,
        )
    return None


def refuse_destination(idle_reason: str | None, can_send: bool) -> Refusal | None:
    """Replay sends through the instance's cloud-mode adapter, so the instance must be sending."""
    if idle_reason:
        return Refusal(
            f"Segapp's servers send this destination nothing ({idle_reason}): enable it in "
            "cloud mode first.",
            rule="replay-destination",
            status=409,
        )
    if not can_send:
        return Refusal(
            "Segapp cannot send to this destination in cloud mode yet, so it cannot replay to it.",
            rule="replay-destination",
            status=409,
        )
    return None


def refuse_running(running: bool) -> Refusal | None:
    if running:
        return Refusal(
            "A replay to this destination is already running: wait for it to finish or cancel it.",
            rule="replay-running",
            status=409,
        )
    return None


def refuse_range(
    start: datetime, end: datetime, kept_from: datetime, now: datetime
) -> Refusal | None:
    """The range must be a real span of the past that the archive still keeps (an end still to
    come stops at now)."""
    if start >= now:
        return Refusal(
            "The start must be in the past: Replay sends events already received.",
            rule="replay-range",
            field="startTime",
        )
    if start >= end:
        return Refusal("The end must come after the start.", rule="replay-range", field="endTime")
    end = min(end, now)
    if end <= kept_from:
        return Refusal(
            f"The archive keeps events from {kept_from:%Y-%m-%d %H:%M} UTC only: choose a range "
            "that ends after that.",
            rule="replay-range",
            field="endTime",
        )
    if start < kept_from:
        return Refusal(
            f"The archive keeps events from {kept_from:%Y-%m-%d %H:%M} UTC only: start the "
            "replay then or later.",
            rule="replay-range",
            field="startTime",
        )
    return None


def refuse_selection(types: list[str], event_names: list[str]) -> Refusal | None:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        return Refusal(
            f"Unknown event type {', '.join(unknown)}: choose among {', '.join(EVENT_TYPES)}.",
            rule="replay-selection",
            field="types",
        )
    if any(not isinstance(name, str) or not name.strip() for name in event_names):
        return Refusal(
            "Event names must be non-empty text.", rule="replay-selection", field="eventNames"
        )
    return None


def refuse_rate(rate: int) -> Refusal | None:
    if not 1 <= rate <= settings.REPLAY_MAX_RATE:
        return Refusal(
            f"Choose a rate between 1 and {settings.REPLAY_MAX_RATE} events per second.",
            rule="replay-rate",
            field="rate",
        )
    return None


def refuse_cancel(finished: bool) -> Refusal | None:
    if finished:
        return Refusal("This replay has already ended.", rule="replay-finished", status=409)
    return None
