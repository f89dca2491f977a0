"""A messageId a source sent in the last 24 hours is stored once and routed once."""

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.utils import timezone

from delivery import archive
from delivery.models import Event, IngestBatch, SeenMessage
from tests.delivery.conftest import TrackingApi, track
from tests.factories import make_source


def test_a_repeated_message_id_is_stored_and_routed_once(api, broker):
    first = api.batch([track(1, messageId="m-1"), track(2, messageId="m-2")])
    second = api.batch([track(1, messageId="m-1"), track(3, messageId="m-3")])

    assert first.json()["accepted"] == 2 and second.json()["accepted"] == 2
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m-1", "m-2", "m-3"]
    batches = list(IngestBatch.objects.order_by("id").values_list("event_count", "duplicate_count"))
    assert batches == [(2, 0), (1, 1)]


def test_a_request_of_only_duplicates_queues_no_routing(api, broker):
    api.batch([track(1, messageId="m-1")])
    queued = broker.llen("celery")
    api.batch([track(1, messageId="m-1")])
    assert broker.llen("celery") == queued == 1
    assert Event.objects.count() == 1
    assert IngestBatch.objects.order_by("id").last().routed_at is not None


def test_a_repeat_inside_one_request_is_stored_once(api):
    response = api.batch([track(1, messageId="m-1"), track(2, messageId="m-1")])
    assert response.json()["accepted"] == 2
    assert list(Event.objects.values_list("event_name", flat=True)) == ["Event 1"]


def test_the_same_message_id_from_another_source_is_another_message(api, live_server, workspace):
    other = make_source(workspace, "python", name="Other")
    api.batch([track(1, messageId="m-1")])
    TrackingApi(live_server.url, other.write_keys.get().key).batch([track(1, messageId="m-1")])
    assert Event.objects.filter(message_id="m-1").count() == 2


def test_a_message_id_older_than_24_hours_is_a_new_message(api):
    api.batch([track(1, messageId="m-1")])
    SeenMessage.objects.update(received_at=timezone.now() - timedelta(hours=24, seconds=1))
    api.batch([track(1, messageId="m-1")])
    assert Event.objects.filter(message_id="m-1").count() == 2
    # ...and the renewed id counts from now again.
    api.batch([track(1, messageId="m-1")])
    assert Event.objects.filter(message_id="m-1").count() == 2


def test_concurrent_requests_with_the_same_ids_store_each_once(api):
    ids = [f"m-{n}" for n in range(60)]

    def send(seed):
        shuffled = random.Random(seed).sample(ids, len(ids))  # different lock orders
        return api.batch([track(n, messageId=i) for n, i in enumerate(shuffled)]).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(16)))

    assert statuses == [200] * 16
    assert sorted(Event.objects.values_list("message_id", flat=True)) == sorted(ids)
    assert sum(IngestBatch.objects.values_list("event_count", flat=True)) == 60


def test_pruning_forgets_only_ids_older_than_24_hours(api):
    api.batch([track(1, messageId="old"), track(2, messageId="new")])
    now = timezone.now()
    SeenMessage.objects.filter(message_id="old").update(received_at=now - timedelta(hours=25))
    assert archive.prune_seen_messages(now) == 1
    assert list(SeenMessage.objects.values_list("message_id", flat=True)) == ["new"]
