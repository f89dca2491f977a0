"""Accepting one tracking request: check and enrich its messages, store them, queue routing."""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction

from delivery import archive
from delivery.ingest import parse
from delivery.ingest.messages import Accepted, Arrival, Rejected, prepare
from delivery.tasks import queue_routing


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: int
    rejected: list[Rejected]
    batch_id: int | None

    def as_json(self) -> dict:
        """Segment answers ``{"success": true}``; the counts are ours (clients ignore extra keys)."""
        body = {"success": True, "accepted": self.accepted, "rejected": len(self.rejected)}
        if self.rejected:
            body["rejections"] = [r.as_json() for r in self.rejected]
        return body


def accept(
    source: parse.SourceRef,
    body: dict,
    *,
    body_size: int,
    single_type: str | None,
    received_at: datetime,
    ip: str,
) -> Outcome:
    """Stores every valid message of the request and records every invalid one with its reason.

    Returns once all of it is committed; routing is queued after the commit and may fail to be
    (the sweeper then queues it), which never fails the request.
    """
    envelope = parse.envelope(body, single_type, body_size)
    arrival = Arrival(
        received_at=received_at,
        ip=ip,
        single_type=single_type,
        sent_at=envelope.sent_at,
        context=envelope.context,
        integrations=envelope.integrations,
    )
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for index, message in enumerate(envelope.messages):
        result = prepare(message, index, arrival)
        (accepted if isinstance(result, Accepted) else rejected).append(result)
    with transaction.atomic():
        stored = archive.store_batch(source.id, received_at, accepted, rejected)
        if stored.needs_routing:
            transaction.on_commit(partial(queue_routing, stored.batch_id))
    return Outcome(len(accepted), rejected, stored.batch_id)
