"""Support staff can look up the archive in the admin, change nothing, and re-send a stuck batch
to routing."""

import base64
from datetime import timedelta

import orjson
import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import Event, IngestBatch, RejectedMessage, SeenMessage
from segapp.models import User
from tests.delivery.conftest import track


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_superuser("support@example.com", "pw"))
    return client


@pytest.fixture
def stored(client, write_key):
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    body = {
        "batch": [track(1, messageId="m-1"), {"type": "track", "userId": "u", "messageId": "bad"}]
    }
    client.post("/v1/batch", orjson.dumps(body), content_type="application/json",
                headers={"Authorization": auth})  # fmt: skip


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("event", {"q": "m-1"}, "m-1"),
        ("event", {"type": "track"}, "Event 1"),
        ("rejectedmessage", {"q": "bad"}, "A track call needs an event name."),
        ("rejectedmessage", {"code": "missing_event"}, "missing_event"),
        ("seenmessage", {"q": "m-1"}, "m-1"),
        ("ingestbatch", {"routed": "no"}, "Backend"),
    ],
)
def test_archive_lists_are_searchable_and_filterable(staff_client, stored, model, query, expected):
    response = staff_client.get(reverse(f"admin:delivery_{model}_changelist"), query)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_nothing_in_the_archive_can_be_added_changed_or_deleted(staff_client, stored):
    for model, obj in [
        ("event", Event.objects.get()),
        ("rejectedmessage", RejectedMessage.objects.get()),
        ("ingestbatch", IngestBatch.objects.get()),
        ("seenmessage", SeenMessage.objects.get()),
    ]:
        change_url = reverse(f"admin:delivery_{model}_change", args=[obj.pk])
        page = staff_client.get(change_url).content.decode()
        assert "<textarea" not in page and 'name="payload"' not in page, model
        assert staff_client.post(change_url, {"payload": "{}"}).status_code == 403, model
        assert staff_client.get(reverse(f"admin:delivery_{model}_add")).status_code == 403
        delete_url = reverse(f"admin:delivery_{model}_delete", args=[obj.pk])
        assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    event = Event.objects.get()
    detail = staff_client.get(reverse("admin:delivery_event_change", args=[event.pk]))
    assert "&quot;event&quot;: &quot;Event 1&quot;" in detail.content.decode()  # pretty JSON
    assert Event.objects.get().payload == event.payload


def test_an_unrouted_batch_can_be_sent_to_routing_again(staff_client, stored, broker):
    batch = IngestBatch.objects.get()
    response = staff_client.post(
        reverse("admin:delivery_ingestbatch_changelist"),
        {"action": "send_to_routing", "_selected_action": [batch.pk]},
        follow=True,
    )
    assert "Sent 1 of 1 unrouted batches." in response.content.decode()
    assert broker.llen("celery") == 1


@pytest.fixture
def engine_rows(stored, write_key):
    """A job routed for a Webhooks instance, with its attempt's state as the engine writes it."""
    from connections.instances import set_enabled
    from connections.models import WriteKey
    from delivery import routing
    from delivery.models import DeliveryAck, DeliveryJob, InstanceHealth, RedeliveryRun
    from tests.factories import make_instance

    source = WriteKey.objects.get(key=write_key).source
    instance = make_instance(source, "webhooks", settings={"webhookUrls": ["http://127.0.0.1:9/"]})
    set_enabled(instance, True, None)
    batch = IngestBatch.objects.get()
    IngestBatch.claim(batch.pk, routing.ROUTING_LEASE)
    (job_id,) = routing.route_batch(batch.pk)
    DeliveryAck.objects.create(job_id=job_id, event_id=Event.objects.get().pk)
    InstanceHealth.objects.create(instance_id=instance.pk, consecutive_failures=3)
    RedeliveryRun.objects.create(instance_id=instance.pk, requested_by="owner@example.com")
    return instance, DeliveryJob.objects.get(pk=job_id)


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("deliveryjob", "instance"),
        ("deliveryack", "job"),
        ("instancehealth", "instance"),
        ("redeliveryrun", "instance"),
        ("ingestcounter", "source"),
    ],
)
def test_the_engines_rows_are_found_by_id_and_read_only(staff_client, engine_rows, model, query):
    from django.apps import apps

    instance, job = engine_rows
    term = {"instance": instance.pk, "job": job.pk, "source": job.source_id}[query]
    row = apps.get_model("delivery", model).objects.get()
    link = reverse(f"admin:delivery_{model}_change", args=[row.pk])
    listing = staff_client.get(reverse(f"admin:delivery_{model}_changelist"), {"q": term})
    assert listing.status_code == 200 and link in listing.content.decode()
    missing = staff_client.get(reverse(f"admin:delivery_{model}_changelist"), {"q": "0"})
    assert link not in missing.content.decode()
    assert staff_client.get(reverse(f"admin:delivery_{model}_add")).status_code == 403
    assert staff_client.post(link, {}).status_code == 403


def test_support_staff_find_a_replay_and_cancel_it_through_the_same_rule(staff_client, source):
    from connections.instances import set_enabled
    from delivery import replays
    from delivery.models import Replay, ReplayStatus
    from segapp.models import AuditEntry, Plan
    from tests.factories import make_instance

    source.workspace.plan = Plan.BUSINESS
    source.workspace.save(update_fields=["plan"])
    instance = set_enabled(make_instance(source, "webhooks", name="Hook",
                           settings={"webhookUrls": ["https://example.com/h"]}), True, None)  # fmt: skip
    now = timezone.now()
    replay = replays.start_replay(instance, None, start=now - timedelta(days=1), end=now)
    changelist = reverse("admin:delivery_replay_changelist")
    assert "Hook" in staff_client.get(changelist, {"q": "Hook"}).content.decode()
    action = {"action": "cancel", "_selected_action": [replay.pk]}
    staff_client.post(changelist, action)
    assert Replay.objects.get(pk=replay.pk).status == ReplayStatus.CANCELLED
    assert AuditEntry.objects.filter(action="instance.replay_cancelled").count() == 1
    # A second cancel is refused by the rule, and says so.
    answer = staff_client.post(changelist, action, follow=True).content.decode()
    assert "This replay has already ended." in answer
