"""Deletion from the event archive (``delivery.erasure``): the users' events go, with their
rejected messages, delivery error samples and replay records; other users' stay; the walk is
resumable chunk by chunk; jobs still owing a deleted event send the rest; replays no longer find
the deleted events."""

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery import deliveries, erasure, replays, tasks
from delivery.models import (
    DeliveryCounter,
    DeliveryError,
    DeliveryJob,
    Event,
    JobState,
    RejectedMessage,
    ReplayedEvent,
)
from privacy import regulations
from privacy.models import RegulationStatus
from segapp.models import Plan
from tests.factories import make_source, make_workspace
from tests.privacy.regulation_setup import (
    deliver,
    hook,
    received_users,
    route,
    send,
    send_and_deliver,
    track,
)
from tests.sinks import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def regulate(workspace, users, kind="DELETE_ONLY", source=None):
    return regulations.create_regulation(
        workspace, None, regulation_type=kind, subject_ids=users, source=source
    )


def users_in_archive(source) -> list[str]:
    return sorted(Event.objects.filter(source_id=source.pk).values_list("user_id", flat=True))


def test_deletes_the_users_events_in_every_source_and_keeps_the_others(catalog, workspace, site):
    server = make_source(workspace, "http-api", name="Server")
    other = make_source(make_workspace(name="Other"), "javascript", name="Theirs")
    for source in (site, server, other):
        send(source, [track("gone", 1), track("kept", 1), track("gone", 2)])
    regulation = regulate(workspace, ["gone", "nobody"])

    tasks.erase_archive()

    assert users_in_archive(site) == users_in_archive(server) == ["kept"]
    assert users_in_archive(other) == ["gone", "gone", "kept"], "another workspace's archive"
    regulation.refresh_from_db()
    step = regulation.steps.get()
    assert (step.status, step.deleted) == (RegulationStatus.FINISHED, 4)
    assert regulation.status == RegulationStatus.FINISHED and regulation.finished_at


def test_a_source_regulation_deletes_from_that_source_only(catalog, workspace, site):
    server = make_source(workspace, "http-api", name="Server")
    send(site, [track("gone", 1)])
    send(server, [track("gone", 2)])
    regulate(workspace, ["gone"], source=server)
    erasure.run()
    assert (users_in_archive(site), users_in_archive(server)) == (["gone"], [])


def test_delete_only_keeps_events_received_after_it_and_suppress_with_delete_does_not(
    workspace, site
):
    send(site, [track("a", 1), track("b", 1)])
    delete_only = regulate(workspace, ["a"])
    with_suppression = regulate(workspace, ["b"], kind="SUPPRESS_WITH_DELETE")
    # New events before the sweep: a's are new data to keep, b's were never routed.
    send(site, [track("a", 2), track("b", 2)])
    erasure.run()
    assert Event.objects.filter(source_id=site.pk).get().message_id == "a-2"
    for regulation in (delete_only, with_suppression):
        regulation.refresh_from_db()
        assert regulation.status == RegulationStatus.FINISHED


def test_samples_of_the_users_events_go_too(workspace, site, sink):
    instance = hook(site, sink)
    sink.default = Reply(status=400, body=b'{"error": "bad payload for gone"}')
    send_and_deliver(site, [track("gone", 1), track("kept", 1)])
    send_and_deliver(site, [track("kept", 2)])
    # A message the tracking API refused, kept with its payload for the debugger.
    send(site, [track("gone", 3, type="nonsense"), track("kept", 3, type="nonsense"),
                track("kept", 4)])  # fmt: skip
    sampled = sorted(DeliveryError.objects.values_list("message_ids", flat=True))
    assert sampled == [["gone-1"], ["kept-1"], ["kept-2"]], "one request per event"
    assert RejectedMessage.objects.count() == 2
    ReplayedEvent.objects.bulk_create(
        ReplayedEvent(instance_id=instance.pk, event_id=e.pk) for e in Event.objects.all()
    )

    regulate(workspace, ["gone"])
    erasure.run()

    # Only the request that carried the user's event; its batch-mate's sample stays.
    sampled = sorted(DeliveryError.objects.values_list("message_ids", flat=True))
    assert sampled == [["kept-1"], ["kept-2"]]
    assert list(RejectedMessage.objects.values_list("message_id", flat=True)) == ["kept-3"]
    assert set(ReplayedEvent.objects.values_list("event_id", flat=True)) == set(
        Event.objects.values_list("pk", flat=True)
    )
    assert users_in_archive(site) == ["kept"] * 3


def test_the_walk_resumes_where_it_stopped(workspace, site, monkeypatch):
    monkeypatch.setattr(erasure, "SCAN", 4)  # rows per chunk: one chunk per run below
    send(site, [track("gone" if n % 3 == 0 else "kept", n) for n in range(10)])
    regulation = regulate(workspace, ["gone"])
    step = regulation.steps.get()

    erasure.run(budget=0)  # a run that has time for one chunk only
    step.refresh_from_db()
    assert (step.status, step.deleted) == (RegulationStatus.RUNNING, 2)
    cursor = step.progress[site.pk]["events"]
    assert Event.objects.filter(source_id=site.pk, pk__lte=cursor, user_id="gone").count() == 0
    assert Event.objects.filter(user_id="gone").count() == 2

    for _ in range(5):
        erasure.run(budget=0)
    step.refresh_from_db()
    assert (step.status, step.deleted) == (RegulationStatus.FINISHED, 4)
    assert users_in_archive(site) == ["kept"] * 6


def test_a_job_still_owing_a_deleted_event_sends_the_rest(workspace, site, sink):
    instance = hook(site, sink)
    jobs = route(send(site, [track("gone", 1), track("kept", 1)]))
    regulate(workspace, ["gone"])
    erasure.run()

    deliver(jobs)

    assert received_users(sink) == ["kept"]
    assert DeliveryJob.objects.get(pk=jobs[0]).state == JobState.DONE
    filtered = DeliveryCounter.objects.get(instance_id=instance.pk, outcome="filtered")
    assert (filtered.reason, filtered.count) == (deliveries.ERASED, 1)


def test_a_replay_no_longer_finds_deleted_events(workspace, site, sink):
    workspace.plan = Plan.BUSINESS
    workspace.save(update_fields=["plan"])
    deliver(route(send(site, [track("gone", 1), track("kept", 1)])))
    regulate(workspace, ["gone"])
    erasure.run()
    instance = hook(site, sink, "Late")
    now = timezone.now()
    window = {"start": now - timedelta(hours=1), "end": now}
    assert replays.matching_events(site.pk, window["start"], window["end"]).count() == 1

    replay = replays.start_replay(instance, None, **window)
    at = replay.created_at
    while not replay.is_finished and at < replay.created_at + timedelta(minutes=1):
        at += timedelta(seconds=1)
        deliver(replays.advance(replay.pk, at))
        replay.refresh_from_db()

    assert received_users(sink) == ["kept"] and replay.total == 1


def test_a_regulation_withdrawn_before_the_sweep_deletes_nothing(workspace, site, owner):
    send(site, [track("gone", 1)])
    regulations.remove_regulation(regulate(workspace, ["gone"]), owner)
    erasure.run()
    assert users_in_archive(site) == ["gone"]
