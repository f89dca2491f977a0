"""The delivery side of ``/metrics`` (``segapp/prometheus.py``): counters kept where outcomes are
counted (``counters.count_ingest``, ``counters.Tally``), and the deployment's backlogs read from
the database at scrape time."""

from django.db.models import Count, Min, Q
from django.utils import timezone
from kombu.exceptions import ChannelError
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from segapp.prometheus import register_collector

EVENTS = Counter(
    "segapp_events",
    "Messages the tracking API received, by source and result (accepted, rejected, duplicate)",
    ["source", "result"],
)
DELIVERIES = Counter(
    "segapp_deliveries",
    "Events' outcomes per destination instance, by its id (delivered, discarded, filtered, "
    "retrying, dead_lettered)",
    ["destination", "outcome"],
)
DELIVERY_LATENCY = Histogram(
    "segapp_delivery_latency_seconds",
    "From an event's receivedAt to the destination's acceptance",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)


def count_events(source_id: str, accepted: int, rejected: int, duplicates: int) -> None:
    for result, n in (("accepted", accepted), ("rejected", rejected), ("duplicate", duplicates)):
        if n:
            EVENTS.labels(source_id, result).inc(n)


def count_outcome(instance_id: str, outcome: str, count: int, latencies_ms) -> None:
    if count:
        DELIVERIES.labels(instance_id, outcome).inc(count)
    for latency in latencies_ms:
        DELIVERY_LATENCY.observe(latency / 1000)


class DeliveryStateCollector:
    """Backlogs and health that only the database knows for the whole deployment."""

    def collect(self):
        from delivery.models import DeliveryJob, IngestBatch, InstanceHealth, JobState
        from segapp.celery import app

        now = timezone.now()
        unrouted = IngestBatch.objects.filter(routed_at__isnull=True).aggregate(
            n=Count("id"), oldest=Min("received_at")
        )
        yield GaugeMetricFamily(
            "segapp_unrouted_batches", "Accepted tracking requests routing still owes",
            value=unrouted["n"],
        )  # fmt: skip
        oldest = unrouted["oldest"]
        yield GaugeMetricFamily(
            "segapp_unrouted_batch_age_seconds", "Age of the oldest batch routing still owes",
            value=(now - oldest).total_seconds() if oldest else 0,
        )  # fmt: skip

        jobs = GaugeMetricFamily(
            "segapp_delivery_jobs",
            "Delivery jobs (a batch's events owed to one instance) by instance and state",
            labels=["destination", "state"],
        )
        waiting = [JobState.PENDING, JobState.RETRYING, JobState.DEAD_LETTERED]
        rows = (
            DeliveryJob.objects.filter(state__in=waiting)
            .values_list("instance_id", "state")
            .annotate(n=Count("id"))
            .order_by()
        )
        for instance_id, state, n in rows:
            jobs.add_metric([instance_id, state], n)
        yield jobs

        breaker = GaugeMetricFamily(
            "segapp_breaker_open",
            "1 while an instance's circuit breaker holds its deliveries back",
            labels=["destination"],
        )
        for instance_id in InstanceHealth.objects.filter(Q(open_until__gt=now)).values_list(
            "instance_id", flat=True
        ):
            breaker.add_metric([instance_id], 1)
        yield breaker

        try:
            with app.connection_for_read() as conn:
                try:
                    waiting = conn.default_channel.queue_declare(
                        app.conf.task_default_queue, passive=True
                    ).message_count
                except ChannelError:  # Redis keeps no empty list: the queue is empty
                    waiting = 0
        except Exception:  # the broker is away: the gauge is absent, readiness says why
            return
        yield GaugeMetricFamily(
            "segapp_broker_queue_length", "Tasks waiting in the broker's queue", value=waiting
        )


register_collector(DeliveryStateCollector())
