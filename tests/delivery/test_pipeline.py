"""Source transformations and destination filters in the engine, task by task in this process,
against real HTTP sinks: what each instance receives, and how what it does not is counted."""

from collections import Counter

import orjson
import pytest

from connections import filters, transformations
from connections.instances import set_enabled
from delivery.models import DeliveryCounter, Outcome
from tests.delivery.test_engine import deliver_all, ingest_and_route
from tests.factories import make_instance, make_source

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture(autouse=True)
def private_egress(settings):
    settings.EGRESS_ALLOW_PRIVATE = True


def hook(source, sink, name):
    instance = make_instance(
        source, "webhooks", name=name, settings={"webhookUrls": [f"{sink.url}/{name}"]}
    )
    return set_enabled(instance, True, None)


def bodies(sink, name) -> list[dict]:
    return [orjson.loads(r.body) for r in sink.received if r.path == f"/{name}"]


def filtered(instance) -> dict[str, int]:
    rows = DeliveryCounter.objects.filter(instance_id=instance.pk, outcome=Outcome.FILTERED)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.reason] = counts.get(row.reason, 0) + row.count
    return counts


def test_a_renamed_event_reaches_every_instance_renamed_and_other_sources_are_untouched(
    source, workspace, sink, live_server
):
    from tests.delivery.conftest import TrackingApi

    a, b = hook(source, sink, "A"), hook(source, sink, "B")
    other = make_source(workspace, "javascript", name="Other site")
    hook(other, sink, "C")
    transformations.create_transformation(
        source,
        None,
        {"name": "Rename", "target": "track", "event_name": "Order Done",
         "new_event_name": "Order Completed", "renames": {"amt": "revenue"}, "drops": ["debug"]},
    )  # fmt: skip
    transformations.create_transformation(
        source, None, {"name": "Traits", "target": "identify", "renames": {"mail": "email"}}
    )
    message = {"type": "track", "event": "Order Done", "userId": "u",
               "properties": {"amt": 10, "debug": True, "sku": "X"}}  # fmt: skip
    identify = {"type": "identify", "userId": "u", "traits": {"mail": "a@example.com"}}
    for key_source in (source, other):
        api = TrackingApi(live_server.url, key_source.write_keys.get().key)
        ingest_and_route(api, [message, identify])
    deliver_all()
    for name in ("A", "B"):
        track, ident = sorted(bodies(sink, name), key=lambda m: m["type"])[::-1]
        assert track["event"] == "Order Completed"
        assert track["properties"] == {"revenue": 10, "sku": "X"}
        assert ident["traits"] == {"email": "a@example.com"}
    untouched = {m["type"]: m for m in bodies(sink, "C")}
    assert untouched["track"]["event"] == "Order Done"
    assert untouched["track"]["properties"] == message["properties"]
    assert untouched["identify"]["traits"] == {"mail": "a@example.com"}
    assert not filtered(a) and not filtered(b)


def test_filters_act_on_their_own_instance_and_are_counted_with_the_filter_id(source, sink, api):
    kept, dropping, shaped = (
        hook(source, sink, "Kept"),
        hook(source, sink, "Drop"),
        hook(source, sink, "Shape"),
    )
    drop = filters.create_filter(dropping, None, title="No tests", condition='event = "Test"',
                                 actions=[{"type": "DROP"}])  # fmt: skip
    filters.create_filter(shaped, None, title="Privacy", condition="all",
                          actions=[{"type": "DROP_PROPERTIES", "fields": {"context": ["ip"], "properties": ["email"]}}])  # fmt: skip
    filters.create_filter(shaped, None, title="Off", condition="all", actions=[{"type": "DROP"}],
                          enabled=False)  # fmt: skip
    messages = [
        {"type": "track", "event": "Test", "userId": "u", "properties": {"email": "e", "n": 1}},
        {"type": "track", "event": "Real", "userId": "u", "properties": {"email": "e", "n": 2}},
    ]
    ingest_and_route(api, messages)
    deliver_all()
    # A job's requests go out side by side, so arrival order is not send order.
    assert sorted(m["event"] for m in bodies(sink, "Kept")) == ["Real", "Test"]
    assert [m["event"] for m in bodies(sink, "Drop")] == ["Real"]
    assert filtered(dropping) == {f"filter {drop.pk}: dropped": 1}
    shaped_bodies = bodies(sink, "Shape")
    assert sorted((m["properties"] for m in shaped_bodies), key=lambda p: p["n"]) == [
        {"n": 1},
        {"n": 2},
    ]
    assert all("ip" not in m["context"] for m in shaped_bodies)
    assert all("ip" in m["context"] for m in bodies(sink, "Kept"))
    assert not filtered(kept) and not filtered(shaped)


def test_deterministic_sampling_keeps_the_same_users_on_every_batch(source, sink, api):
    sampled = hook(source, sink, "S")
    filters.create_filter(sampled, None, title="Half", condition="all",
                          actions=[{"type": "SAMPLE", "percent": 0.5, "path": "userId"}])  # fmt: skip
    users = [f"user-{n}" for n in range(40)]
    for _ in range(2):
        ingest_and_route(api, [{"type": "track", "event": "E", "userId": u} for u in users])
    deliver_all()
    received = Counter(m["userId"] for m in bodies(sink, "S"))
    assert set(received.values()) == {2}  # a user kept in one batch is kept in the other
    assert 5 < len(received) < 35
    assert sum(filtered(sampled).values()) == 2 * (40 - len(received))


def test_a_filter_change_reaches_routing_at_once(source, sink, api):
    instance = hook(source, sink, "A")
    ingest_and_route(api, [{"type": "track", "event": "E", "userId": "u"}])
    item = filters.create_filter(instance, None, title="Drop E", condition='event = "E"',
                                 actions=[{"type": "DROP"}])  # fmt: skip
    ingest_and_route(api, [{"type": "track", "event": "E", "userId": "u"}])
    filters.update_filter(item, None, enabled=False)
    ingest_and_route(api, [{"type": "track", "event": "E", "userId": "u"}])
    deliver_all()
    assert len(bodies(sink, "A")) == 2
    assert sum(filtered(instance).values()) == 1
