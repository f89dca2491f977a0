"""The integrations object of a message: which destinations it may reach, with what options.

Segment's rules (https://segment.com/docs/connections/spec/common/#integrations): keys are
destination display names, case-sensitive; ``"All": false`` turns off every destination not named
with a true value or an options object; ``false`` turns one off; an object turns it on and passes
options. A key applies to every instance of that destination. Beyond Segment, a key may be one
instance's id, which then takes precedence over the destination's name.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    send: bool
    options: dict | None = None
    reason: str = ""


def decide(integrations, instance_id: str, names: list[str]) -> Decision:
    """``names``: the destination's display name and its previous names."""
    if not isinstance(integrations, dict):
        return Decision(True)
    for key in [instance_id, *names]:
        if key in integrations:
            value = integrations[key]
            if value is False:
                return Decision(False, reason=f'integrations object: "{key}": false')
            return Decision(True, value if isinstance(value, dict) else None)
    if integrations.get("All") is False:
        return Decision(False, reason='integrations object: "All": false')
    return Decision(True)
