"""HIPAA auditing: every console page that shows a user event payloads leaves an entry in the
audit trail, saying who read what (the debugger's stream and each event opened in it, an
instance's Event Delivery samples, an Event Tester or routing preview run)."""

from connections.models import DestinationInstance, Source
from segapp import audit

ACTIONS = {
    Source: {
        "source.debugger_viewed": "viewed events in the debugger",
        "source.event_viewed": "opened an event in the debugger",
        "source.routing_previewed": "ran a routing preview",
    },
    DestinationInstance: {
        "instance.samples_viewed": "viewed Event Delivery's samples",
        "instance.event_tested": "sent a test event",
    },
}


def register() -> None:
    for model, actions in ACTIONS.items():
        audit.extend(model, actions)


def record(request, action: str, obj, **detail) -> None:
    """One entry for ``request.user`` reading payloads of ``obj`` (a source or an instance)."""
    audit.record(request.workspace, request.user, action, obj, after=detail or None)
