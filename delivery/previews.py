"""Dry runs that send nothing: a filter against a sample event (the console's filter preview and
the Public API's ``/destination/filters/preview``)."""

from dataclasses import dataclass

from connections.filters import checked_actions, parsed_condition
from delivery import filters, fql


@dataclass
class FilterPreview:
    matched: bool
    result: dict | None  # the event as the instance would receive it; None if dropped
    reason: str = ""


def preview_filter(condition: str, actions: list, payload: dict) -> FilterPreview:
    """Raises ``Refusal`` (naming the field) for an invalid condition or actions, as saving would."""
    spec = filters.FilterSpec(
        "preview", fql.compile(parsed_condition(condition)), checked_actions(actions)
    )
    result, reason = filters.apply([spec], payload)
    return FilterPreview(spec.condition(payload), result, reason)
