"""What the regulation tests share: events sent through the real tracking API and routed as a
worker would, webhook instances on a real sink, and each system's sweep run in this process."""

import base64

import orjson
from django.db.models import Sum
from django.test import Client

from connections.instances import set_enabled
from delivery import deliveries, erasure, routing
from delivery.models import DeliveryCounter, IngestBatch
from tests.factories import make_instance
from warehouses import erasure as warehouse_erasure


def track(user: str, n: int = 0, **fields) -> dict:
    return {"type": "track", "event": f"Event {n}", "userId": user,
            "messageId": f"{user}-{n}", **fields}  # fmt: skip


def send(source, messages: list[dict]) -> int:
    """Posts ``messages`` to ``/v1/batch`` as one request; the id of the batch it stored."""
    basic = base64.b64encode(f"{source.write_keys.first().key}:".encode()).decode()
    response = Client().post("/v1/batch", {"batch": messages}, "application/json",
                             headers={"Authorization": f"Basic {basic}"})  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True
    return (
        IngestBatch.objects.filter(source_id=source.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)[0]
    )


def route(batch_id: int) -> list[int]:
    assert IngestBatch.claim(batch_id, routing.ROUTING_LEASE)
    return routing.route_batch(batch_id)


def deliver(job_ids) -> None:
    for job_id in job_ids:
        while job_id is not None:
            job_id = deliveries.deliver_job(job_id)


def send_and_deliver(source, messages: list[dict]) -> None:
    deliver(route(send(source, messages)))


def hook(source, sink, name: str = "Hook"):
    instance = make_instance(
        source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
    )
    return set_enabled(instance, True, None)


def received_users(sink, name: str | None = None) -> list[str]:
    return [orjson.loads(r.body)["userId"] for r in sink.received
            if name is None or r.path == f"/{name}"]  # fmt: skip


def filtered(instance) -> dict[str, int]:
    """{reason: events} the instance's counters hold as filtered."""
    rows = DeliveryCounter.objects.filter(instance_id=instance.pk, outcome="filtered")
    return dict(rows.values("reason").annotate(n=Sum("count")).values_list("reason", "n"))


def erase_everywhere(now=None) -> None:
    """One run of each system's sweep: the archive, then the warehouses."""
    erasure.run()
    warehouse_erasure.run(now)
