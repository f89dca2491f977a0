"""The delivery engine, task by task in this process, against real HTTP sinks: routing with the
integrations object, retries, Retry-After, discards, dead letters, idempotence, the breaker."""

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from connections.instances import set_enabled, set_mode
from connections.models import DestinationInstance
from delivery import deliveries, tasks
from delivery.models import (
    DeliveryCounter,
    DeliveryError,
    DeliveryJob,
    IngestBatch,
    InstanceHealth,
    JobState,
)
from tests.delivery.conftest import track
from tests.factories import make_instance, make_source
from tests.sinks import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source(catalog, workspace):
    """A website source: its instances may run in either mode."""
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_RETRY_BASE_DELAY = (
        0  # retries are due at once; the schedule has its own tests
    )


@pytest.fixture
def hook(source, sink):
    """An enabled Webhooks instance sending to the sink."""

    def make(name="Webhooks", url=None, **settings):
        instance = make_instance(
            source,
            "webhooks",
            name=name,
            settings={"webhookUrls": [url or f"{sink.url}/{name}"], **settings},
        )
        return set_enabled(instance, True, None)

    return make


def ingest_and_route(api, messages, **envelope) -> list[int]:
    """Posts a batch as a client would, then runs the routing task as a worker would."""
    assert api.batch(messages, **envelope).status_code == 200
    batch = IngestBatch.objects.order_by("id").last()
    tasks.route_batch(batch.pk)
    return list(DeliveryJob.objects.filter(batch_id=batch.pk).values_list("pk", flat=True))


def deliver_all():
    """Runs delivery tasks until no job is due (what workers and the dispatcher do)."""
    for _ in range(50):
        due = list(
            DeliveryJob.objects.filter(
                state__in=["pending", "retrying"], next_attempt_at__lte=timezone.now()
            ).values_list("pk", flat=True)
        )
        if not due:
            return
        for job_id in due:
            tasks.deliver_job(job_id)


def received_ids(sink, path=None) -> list[str]:
    return [
        orjson.loads(r.body)["messageId"] for r in sink.received if path is None or r.path == path
    ]


def counts(instance) -> dict:
    out = {}
    for c in DeliveryCounter.objects.filter(instance_id=instance.pk):
        out[c.outcome] = out.get(c.outcome, 0) + c.count
    return out


def test_every_enabled_cloud_instance_gets_each_event_once(api, hook, source, sink):
    first, second = hook("A"), hook("B")
    make_instance(
        source, "webhooks", name="Disabled", settings={"webhookUrls": [f"{sink.url}/disabled"]}
    )
    device = set_enabled(make_instance(source, "amplitude", settings={"apiKey": "k"}), True, None)
    set_mode(device, "device", None)
    messages = [track(n, messageId=f"m{n}") for n in range(5)]
    ingest_and_route(api, messages)
    deliver_all()
    assert (
        sorted(received_ids(sink, "/A"))
        == sorted(received_ids(sink, "/B"))
        == [f"m{n}" for n in range(5)]
    )
    assert {r.path for r in sink.received} == {"/A", "/B"}
    assert counts(first) == counts(second) == {"delivered": 5}
    counter = DeliveryCounter.objects.get(instance_id=first.pk, outcome="delivered")
    assert counter.latency_ms_sum > 0 and sum(counter.latency_histogram) == 5


CASES = [
    ("absent", None, {}, {"A", "B"}),
    ("destination off", {"Webhooks": False}, {}, set()),
    ("All off, Webhooks on", {"All": False, "Webhooks": True}, {}, {"A", "B"}),
    ("All off", {"All": False}, {}, set()),
    ("All on, Webhooks off", {"All": True, "Webhooks": False}, {}, set()),
    ("options object", {"All": False, "Webhooks": {"note": "x"}}, {}, {"A", "B"}),
    ("case-sensitive name", {"webhooks": False}, {}, {"A", "B"}),
    ("batch level", None, {"integrations": {"All": False}}, set()),
]


@pytest.mark.parametrize(
    ("label", "integrations", "envelope", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_integrations_object(api, hook, sink, label, integrations, envelope, expected):
    a, _ = hook("A"), hook("B")
    message = track(1, **({"integrations": integrations} if integrations is not None else {}))
    ingest_and_route(api, [message], **envelope)
    deliver_all()
    assert {r.path.strip("/") for r in sink.received} == expected
    if not expected:
        filtered = DeliveryCounter.objects.get(instance_id=a.pk, outcome="filtered")
        assert filtered.reason.startswith("integrations object")


def test_an_instance_id_key_picks_one_instance(api, hook, sink):
    a, b = hook("A"), hook("B")
    ingest_and_route(api, [track(1, integrations={"All": False, a.pk: True})])
    ingest_and_route(api, [track(2, integrations={"Webhooks": True, b.pk: False})])
    deliver_all()
    assert [r.path for r in sink.received] == ["/A", "/A"]


def test_500s_then_recovery_delivers_exactly_once(api, hook, sink):
    instance = hook("A")
    # Two failures: one fewer than opens the circuit breaker (tested on its own below).
    sink.replies = [Reply(500), Reply(503)]
    ingest_and_route(api, [track(1, messageId="once")])
    deliver_all()
    assert received_ids(sink) == ["once"] * 3  # two failures, then the delivery
    assert DeliveryJob.objects.get().state == JobState.DONE
    assert counts(instance) == {"retrying": 2, "delivered": 1}
    assert DeliveryError.objects.filter(instance_id=instance.pk).count() == 2
    assert InstanceHealth.objects.get(pk=instance.pk).consecutive_failures == 0  # reset by success


def test_429_retry_after_is_honoured(api, hook, sink):
    hook("A")
    sink.replies = [Reply(429, headers={"Retry-After": "30"})]
    ingest_and_route(api, [track(1)])
    before = timezone.now()
    deliver_all()
    job = DeliveryJob.objects.get()
    assert job.state == JobState.RETRYING and len(sink.received) == 1
    assert timedelta(seconds=29) < job.next_attempt_at - before < timedelta(seconds=32)


def test_400_is_discarded_with_the_reason_and_the_exchange(api, hook, sink):
    instance = hook("A", sharedSecret="hush-hush")
    sink.replies = [Reply(400, body=b'{"error": "bad field"}')]
    ingest_and_route(api, [track(1)])
    deliver_all()
    assert len(sink.received) == 1 and DeliveryJob.objects.get().state == JobState.DONE
    error = DeliveryError.objects.get(instance_id=instance.pk)
    assert (
        error.outcome == "discarded" and "HTTP 400" in error.reason and "bad field" in error.reason
    )
    assert error.request["method"] == "POST" and error.response["status"] == 400
    assert error.request["headers"]["X-Signature"] == "••••••••"
    assert "hush-hush" not in orjson.dumps(error.request).decode()
    assert DeliveryCounter.objects.get(
        instance_id=instance.pk, outcome="discarded"
    ).reason.startswith("HTTP 400")


def test_dead_letter_after_the_window_then_redeliver(api, hook, sink, settings):
    settings.DELIVERY_RETRY_WINDOW = 1
    settings.DELIVERY_RETRY_BASE_DELAY = 2
    instance = hook("A")
    sink.default = Reply(503)
    ingest_and_route(api, [track(1, messageId="late")])
    deliver_all()
    job = DeliveryJob.objects.get()
    assert job.state == JobState.DEAD_LETTERED and len(job.event_ids) == 1
    assert counts(instance)["dead_lettered"] == 1
    sink.default = Reply(200)
    assert deliveries.redeliver(job.pk)
    settings.DELIVERY_RETRY_WINDOW = 3600
    tasks.dispatch_due_jobs()
    deliver_all()
    job.refresh_from_db()
    assert job.state == JobState.DONE and received_ids(sink)[-1] == "late"
    assert counts(instance)["delivered"] == 1


def test_routing_twice_sends_once(api, hook, sink):
    hook("A")
    ingest_and_route(api, [track(1)])
    batch = IngestBatch.objects.get()
    IngestBatch.objects.filter(pk=batch.pk).update(routed_at=None, lease_until=None)  # as if lost
    tasks.route_batch(batch.pk)
    deliver_all()
    for job_id in DeliveryJob.objects.values_list("pk", flat=True):
        tasks.deliver_job(job_id)  # a duplicated Celery message
    assert DeliveryJob.objects.count() == 1 and len(sink.received) == 1


def test_unreachable_destination_opens_the_breaker(api, hook, sink, settings):
    settings.DELIVERY_CONNECT_TIMEOUT = 1
    instance = hook("A", url="http://127.0.0.1:9/closed-port")
    ingest_and_route(api, [track(n) for n in range(3)])
    for _ in range(deliveries.BREAKER_THRESHOLD):
        DeliveryJob.objects.update(next_attempt_at=timezone.now())
        tasks.deliver_job(DeliveryJob.objects.get().pk)
    health = InstanceHealth.objects.get(pk=instance.pk)
    assert health.consecutive_failures == 3 and health.open_until > timezone.now()
    # While open, a due job is put back until the breaker's probe time instead of being sent.
    DeliveryJob.objects.update(next_attempt_at=timezone.now())
    tasks.deliver_job(DeliveryJob.objects.get().pk)
    job = DeliveryJob.objects.get()
    assert job.attempts == 3 and job.next_attempt_at == health.open_until
    # When the pause is over, one job probes the tool and the others keep waiting.
    ingest_and_route(api, [track(9)])
    InstanceHealth.objects.filter(pk=instance.pk).update(
        open_until=timezone.now() - timedelta(seconds=1)
    )
    DeliveryJob.objects.update(next_attempt_at=timezone.now())
    probe, waiting = DeliveryJob.objects.order_by("id")
    tasks.deliver_job(probe.pk)
    tasks.deliver_job(waiting.pk)
    probe.refresh_from_db()
    waiting.refresh_from_db()
    assert probe.attempts == 4  # it was sent (and failed again)
    assert waiting.attempts == 0 and waiting.next_attempt_at > timezone.now()  # not sent


def test_a_private_address_is_refused_when_egress_forbids_it(api, hook, sink, settings):
    instance = hook("A")
    settings.EGRESS_ALLOW_PRIVATE = False
    ingest_and_route(api, [track(1)])
    deliver_all()
    assert not sink.received
    assert "egress policy" in DeliveryError.objects.get(instance_id=instance.pk).reason


def test_destination_without_an_adapter_is_counted_as_filtered_with_the_reason(api, source, sink):
    # Enabling it is refused now (connections.rules.refuse_sending); one enabled before that rule
    # existed still reaches routing, which must say why it sends nothing.
    instance = make_instance(source, "heap")
    DestinationInstance.objects.filter(pk=instance.pk).update(enabled=True)
    source.bump_config_version()
    ingest_and_route(api, [track(1)])
    filtered = DeliveryCounter.objects.get(instance_id=instance.pk)
    assert filtered.outcome == "filtered" and "cannot send to Heap" in filtered.reason
