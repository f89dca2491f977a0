"""Suppression in routing: a suppressed user's events are accepted by the tracking API, archived,
and never routed; every receiving instance counts them as filtered, naming the regulation. Other
users are unaffected, a replay honours it, and UNSUPPRESS lets new events through again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from delivery import replays
from delivery.models import Event, Replay
from privacy import regulations
from privacy.models import Suppression
from segapp.models import Plan
from tests.factories import make_source
from tests.privacy.regulation_setup import (
    deliver,
    filtered,
    hook,
    received_users,
    route,
    send,
    send_and_deliver,
    track,
)

pytestmark = pytest.mark.django_db(transaction=True)


def suppress(workspace, users, source=None, kind="SUPPRESS_ONLY"):
    return regulations.create_regulation(
        workspace, None, regulation_type=kind, subject_ids=users, source=source
    )


def test_a_suppressed_users_events_are_accepted_archived_and_filtered_everywhere(
    workspace, site, sink, client_as, owner
):
    first, second = hook(site, sink, "First"), hook(site, sink, "Second")
    regulation = suppress(workspace, ["quiet"])

    send_and_deliver(site, [track("quiet", 1), track("loud", 1), track("quiet", 2)])

    assert sorted(received_users(sink)) == ["loud", "loud"], "one event of loud per instance"
    reason = f"user suppressed (regulation {regulation.pk})"
    assert filtered(first) == filtered(second) == {reason: 2}
    assert Event.objects.filter(source_id=site.pk, user_id="quiet").count() == 2
    page = client_as(owner).get(reverse("delivery:event-delivery", args=[workspace.slug, first.pk]))
    assert reason in page.content.decode(), "Event Delivery names the reason"


def test_a_source_suppression_leaves_the_users_events_from_other_sources(
    catalog, workspace, site, sink
):
    server = make_source(workspace, "http-api", name="Server")
    hook(site, sink, "Site")
    hook(server, sink, "Server")
    suppress(workspace, ["quiet"], source=site)

    send_and_deliver(site, [track("quiet", 1)])
    send_and_deliver(server, [track("quiet", 2)])

    assert received_users(sink, "Site") == []
    assert received_users(sink, "Server") == ["quiet"]


def test_another_workspaces_suppression_changes_nothing_here(catalog, workspace, site, sink):
    from tests.factories import make_workspace

    suppress(make_workspace(name="Other"), ["quiet"])
    hook(site, sink)
    send_and_deliver(site, [track("quiet", 1)])
    assert received_users(sink) == ["quiet"]


def test_routing_asks_once_per_batch_whatever_its_users(workspace, site, sink):
    hook(site, sink)
    suppress(workspace, ["u3", "u7"])
    batch = send(site, [track(f"u{n % 10}", n) for n in range(60)])
    with CaptureQueriesContext(connection) as queries:
        route(batch)
    asked = [q["sql"] for q in queries.captured_queries if "privacy_suppression" in q["sql"]]
    assert len(asked) == 1, asked
    anonymous = send(site, [{"type": "track", "event": "Visit", "anonymousId": "a1"}])
    with CaptureQueriesContext(connection) as queries:
        route(anonymous)
    assert not [q for q in queries.captured_queries if "privacy_suppression" in q["sql"]]


def test_unsuppress_routes_new_events_again_and_never_the_filtered_ones(workspace, site, sink):
    instance = hook(site, sink)
    suppress(workspace, ["quiet"])
    send_and_deliver(site, [track("quiet", 1)])
    suppress(workspace, ["quiet"], kind="UNSUPPRESS")
    assert not Suppression.objects.exists()

    send_and_deliver(site, [track("quiet", 2)])

    assert [r.body.count(b"quiet-2") for r in sink.received] == [1]
    assert sum(filtered(instance).values()) == 1


def test_suppression_goes_by_the_user_id_as_sent_before_transformations(workspace, site, sink):
    """A transformation that renames the event does not hide the user from suppression."""
    from connections import transformations

    transformations.create_transformation(
        site, None, {"name": "Rename", "target": "track", "event_name": "Event 1",
                     "new_event_name": "Renamed", "renames": {}, "drops": []},
    )  # fmt: skip
    hook(site, sink)
    suppress(workspace, ["quiet"])
    send_and_deliver(site, [track("quiet", 1), track("loud", 1)])
    assert received_users(sink) == ["loud"]


def test_a_replay_never_sends_a_suppressed_users_events(workspace, site, sink):
    workspace.plan = Plan.BUSINESS
    workspace.save(update_fields=["plan"])
    # Archived while no destination received them; the user is suppressed since.
    for n in range(3):
        deliver(route(send(site, [track("quiet", n), track("loud", n)])))
    suppress(workspace, ["quiet"])
    instance = hook(site, sink, "Late")
    now = timezone.now()
    replay = replays.start_replay(instance, None, start=now - timedelta(hours=1), end=now)

    at = replay.created_at
    for _ in range(100):
        at += timedelta(seconds=1)
        deliver(replays.advance(replay.pk, at))
        replay.refresh_from_db()
        if replay.is_finished:
            break

    assert replay.is_finished and sorted(received_users(sink)) == ["loud"] * 3
    assert (replay.total, replay.sent, replay.filtered) == (6, 3, 3)
    assert Replay.objects.get(pk=replay.pk).status == "FINISHED"
