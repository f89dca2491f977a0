"""Replays through the Public API: start, preview, list, get and cancel a destination's replays;
every refusal is the engine's rule, answered with the rule as the error's ``type``."""

from datetime import timedelta

import orjson
import pytest
from django.conf import settings
from django.utils import timezone

from connections.instances import set_enabled
from delivery import replays
from delivery.models import Replay, ReplayStatus
from segapp.models import Plan, Role
from segapp.workspaces import update_workspace
from tests.api.conftest import errors_of
from tests.api.test_query_counts import queries
from tests.delivery.replay_archive import archive_days, send_in_line
from tests.factories import make_instance, make_source

UNREACHABLE = {"webhookUrls": ["http://127.0.0.1:9/hook"]}
REPLAY_KEYS = {
    "id", "destinationId", "status", "total", "sent", "failed", "startTime", "endTime",
    "createdAt", "filtered", "skipped", "eventNames", "types", "rate", "markContext",
    "startedAt", "finishedAt", "error", "createdBy",
}  # fmt: skip


@pytest.fixture
def business(workspace):
    return update_workspace(workspace, None, plan=Plan.BUSINESS)


@pytest.fixture
def source(catalog, business):
    return make_source(business, "javascript", name="Website")


def sending_hook(source, hook_settings=UNREACHABLE, name="Hook"):
    """An enabled cloud-mode webhooks instance: one a replay may send to."""
    return set_enabled(
        make_instance(source, "webhooks", name=name, settings=hook_settings), True, None
    )


@pytest.fixture
def hook(source):
    return sending_hook(source)


@pytest.fixture
def day(source):
    """One archived day of 20 events (16 track, 2 identify, 2 page), ended yesterday."""
    return archive_days(source, per_day=20, days=1, until=timezone.now())[0]


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def iso(at) -> str:
    return at.isoformat().replace("+00:00", "Z")


def body(begin, end, **choices) -> dict:
    return {"startTime": iso(begin), "endTime": iso(end), **choices}


def replays_path(instance) -> str:
    return f"/destinations/{instance.pk}/replays"


def start(api, instance, begin, end, **choices):
    return api.post(replays_path(instance), body(begin, end, **choices))


def started(api, instance, begin, end, **choices) -> dict:
    response = start(api, instance, begin, end, **choices)
    assert response.status_code == 201, response.content
    return response.json()["data"]["replay"]


def cancelled(api, replay: dict) -> dict:
    response = api.post(f"/destinations/{replay['destinationId']}/replays/{replay['id']}/cancel")
    assert response.status_code == 200, response.content
    return response.json()["data"]["replay"]


def test_start_answers_the_replay(api, hook, day):
    response = start(api, hook, day.start, day.end, types=["track", "page"],
                     eventNames=["Event 1", "Event 2", "Home"], rate=50, markContext=False)  # fmt: skip

    assert response.status_code == 201, response.content
    replay = response.json()["data"]["replay"]
    stored = Replay.objects.get()
    assert replay == {
        "id": stored.pk,
        "destinationId": hook.pk,
        "status": "PENDING",
        "total": 10,  # "Event 1" and "Event 2" 4 times each, "Home" twice
        "sent": 0,
        "failed": 0,
        "filtered": 0,
        "skipped": 0,
        "startTime": iso(day.start),
        "endTime": iso(day.end),
        "createdAt": iso(stored.created_at),
        "eventNames": ["Event 1", "Event 2", "Home"],
        "types": ["page", "track"],
        "rate": 50,
        "markContext": False,
        "startedAt": None,
        "finishedAt": None,
        "error": "",
        "createdBy": "API token “test token”",
    }


def test_start_takes_the_servers_rate_and_marks_the_context_by_default(api, hook, day):
    replay = started(api, hook, day.start, day.end)
    assert (replay["types"], replay["eventNames"], replay["total"]) == ([], [], 20)
    assert (replay["rate"], replay["markContext"]) == (settings.REPLAY_RATE, True)


def test_list_is_newest_first_and_get_answers_the_same_replay(api, source, hook, day):
    older = cancelled(api, started(api, hook, day.start, day.end))
    newer = started(api, hook, day.start, day.end, types=["identify"])
    other = sending_hook(source, name="Other hook")
    elsewhere = started(api, other, day.start, day.end)

    listed = api.get(replays_path(hook)).json()["data"]
    assert [r["id"] for r in listed["replays"]] == [newer["id"], older["id"]]
    assert listed["replays"] == [newer, older]
    assert listed["pagination"]["totalEntries"] == 2
    for replay in (older, newer):
        got = api.get(f"{replays_path(hook)}/{replay['id']}")
        assert got.status_code == 200 and got.json() == {"data": {"replay": replay}}
    # A replay is reached through its own destination only.
    errors_of(api.get(f"{replays_path(hook)}/{elsewhere['id']}"), 404)
    assert set(older) == REPLAY_KEYS and older["status"] == "CANCELLED"


def test_list_pages_as_the_other_lists_do(api, hook, day):
    made = [cancelled(api, started(api, hook, day.start, day.end))["id"] for _ in range(3)]

    first = api.get(replays_path(hook), **{"pagination.count": 2}).json()["data"]
    assert [r["id"] for r in first["replays"]] == made[::-1][:2]
    assert first["pagination"]["totalEntries"] == 3 and first["pagination"]["previous"] is None
    params = {"pagination[count]": 2, "pagination[cursor]": first["pagination"]["next"]}
    second = api.get(replays_path(hook), **params).json()["data"]
    assert [r["id"] for r in second["replays"]] == made[:1]
    assert second["pagination"]["next"] is None
    refused = api.get(replays_path(hook), **{"pagination.cursor": "nonsense"})
    assert errors_of(refused, 422)[0]["field"] == "pagination.cursor"


def test_list_queries_are_the_same_for_1_and_20_replays(api, hook, day):
    # token, rate-limit upsert, the destination (with its workspace), count, page
    def replay_and_cancel():
        replays.cancel_replay(replays.start_replay(hook, None, start=day.start, end=day.end), None)

    replay_and_cancel()
    one = queries(api, replays_path(hook))
    for _ in range(19):
        replay_and_cancel()
    twenty = queries(api, replays_path(hook))
    assert one == twenty == 5


def test_preview_counts_the_archived_events_of_the_range_and_selection(api, source, hook):
    days = archive_days(source, per_day=30, days=3, until=timezone.now())
    path = f"{replays_path(hook)}/preview"

    def total(begin, end, **choices):
        response = api.post(path, body(begin, end, **choices))
        assert response.status_code == 200, response.content
        return response.json()["data"]["total"]

    assert total(days[1].start, days[1].end) == 30
    assert total(days[0].start, days[2].end) == 90
    assert total(days[0].start, days[1].start + timedelta(hours=11)) == 30  # before day 2's noon
    identifies = sum(m["type"] == "identify" for m in days[0].messages)
    assert total(days[0].start, days[0].end, types=["identify"]) == identifies == 3
    event_1 = sum(m.get("event") == "Event 1" for d in days for m in d.messages)
    assert total(days[0].start, days[2].end, eventNames=["Event 1"]) == event_1 == 18
    # The same body as a start: markContext and rate are accepted, and nothing is stored.
    assert total(days[1].start, days[1].end, rate=10, markContext=False) == 30
    assert not Replay.objects.exists()


def test_preview_answers_the_refusal_a_start_would(api, hook, day, business):
    path = f"{replays_path(hook)}/preview"
    started(api, hook, day.start, day.end)
    (running,) = errors_of(api.post(path, body(day.start, day.end)), 409)
    assert running["type"] == "replay-running"
    update_workspace(business, None, plan=Plan.TEAM)
    (plan,) = errors_of(api.post(path, body(day.start, day.end)), 403)
    assert plan["type"] == "replay-plan"


def test_cancel_answers_the_cancelled_replay_once(api, hook, day):
    replay = started(api, hook, day.start, day.end)

    after = cancelled(api, replay)

    stored = Replay.objects.get()
    assert after == {**replay, "status": "CANCELLED", "finishedAt": iso(stored.finished_at)}
    again = api.post(f"{replays_path(hook)}/{replay['id']}/cancel")
    (finished,) = errors_of(again, 409)
    assert finished["type"] == "replay-finished"
    # Once it ended, the destination may replay again.
    assert started(api, hook, day.start, day.end)["status"] == "PENDING"


@pytest.mark.parametrize("plan", [Plan.FREE, Plan.TEAM])
def test_free_and_team_workspaces_are_refused_by_the_plan_rule(api, hook, day, business, plan):
    update_workspace(business, None, plan=plan)
    (error,) = errors_of(start(api, hook, day.start, day.end), 403)
    assert error["type"] == "replay-plan" and "Business plan" in error["message"]
    assert not Replay.objects.exists()


def test_a_second_replay_while_one_runs_is_refused(api, hook, day):
    first = started(api, hook, day.start, day.end)
    replays.advance(first["id"])  # its first slice, as a worker would
    running = api.get(f"{replays_path(hook)}/{first['id']}").json()["data"]["replay"]
    assert running["status"] == "RUNNING"
    (error,) = errors_of(start(api, hook, day.start, day.end), 409)
    assert error["type"] == "replay-running"
    assert Replay.objects.count() == 1


RULE_REFUSALS = {
    "start before retention": (body(ago(days=31), ago(days=1)), "replay-range", "startTime"),
    "end before retention": (body(ago(days=40), ago(days=35)), "replay-range", "endTime"),
    "end before start": (body(ago(hours=1), ago(hours=2)), "replay-range", "endTime"),
    "unknown type": (body(ago(days=1), ago(hours=1), types=["click"]), "replay-selection", "types"),
    "blank name": (body(ago(days=1), ago(hours=1), eventNames=[" "]), "replay-selection", "eventNames"),
    "rate 0": (body(ago(days=1), ago(hours=1), rate=0), "replay-rate", "rate"),
}  # fmt: skip


@pytest.mark.parametrize(
    "choices, rule, field", list(RULE_REFUSALS.values()), ids=list(RULE_REFUSALS)
)
def test_a_range_selection_or_rate_the_rules_refuse(api, hook, choices, rule, field):
    (error,) = errors_of(api.post(replays_path(hook), choices), 422)
    assert (error["type"], error["field"]) == (rule, field)
    assert not Replay.objects.exists()


def test_a_destination_that_sends_nothing_is_refused(api, hook):
    set_enabled(hook, False, None)
    (error,) = errors_of(api.post(replays_path(hook), body(ago(days=1), ago(hours=1))), 409)
    assert error["type"] == "replay-destination"


MISSING = object()
WRONG_SHAPES = {
    "no startTime": ({"startTime": MISSING}, "startTime"),
    "startTime not a time": ({"startTime": "yesterday"}, "startTime"),
    "endTime a number": ({"endTime": 1767312000}, "endTime"),
    "eventNames a string": ({"eventNames": "Signed Up"}, "eventNames"),
    "types an object": ({"types": {"track": True}}, "types"),
    "types of lists": ({"types": [["track"]]}, "types"),
    "rate a word": ({"rate": "fast"}, "rate"),
    "markContext a word": ({"markContext": "sometimes"}, "markContext"),
}


@pytest.mark.parametrize("choices, field", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
def test_a_body_of_the_wrong_shape_is_refused_naming_the_field(api, hook, choices, field):
    sent = {**body(ago(days=1), ago(hours=1)), **choices}
    sent = {name: value for name, value in sent.items() if value is not MISSING}
    for path in (replays_path(hook), f"{replays_path(hook)}/preview"):
        errors = errors_of(api.post(path, sent), 422)
        assert [(e["type"], e["field"]) for e in errors] == [("validation", field)], path
    assert not Replay.objects.exists()


def test_a_body_that_is_not_json_is_a_bad_request(api, hook):
    path = f"/api{replays_path(hook)}"
    response = api.client.post(path, b"{", "application/json", headers=api.headers)
    assert errors_of(response, 400)[0]["type"] == "bad-request"


def test_another_workspaces_destination_and_replays_are_not_found(api, hook, day, foreign):
    update_workspace(foreign["workspace"], None, plan=Plan.BUSINESS)
    theirs = set_enabled(foreign["instance"], True, None)
    their_replay = replays.start_replay(theirs, None, start=ago(days=2), end=ago(days=1))
    mine = started(api, hook, day.start, day.end)
    their_path, my_path = replays_path(theirs), replays_path(hook)
    window = body(ago(days=2), ago(days=1))

    for response in [
        api.get(their_path),
        api.post(their_path, window),
        api.post(f"{their_path}/preview", window),
        api.get(f"{their_path}/{their_replay.pk}"),
        api.post(f"{their_path}/{their_replay.pk}/cancel"),
        api.get(f"{my_path}/{their_replay.pk}"),
        api.post(f"{my_path}/{their_replay.pk}/cancel"),
        api.get(f"{their_path}/{mine['id']}"),
    ]:
        assert errors_of(response, 404)[0]["type"] == "not-found"
    assert Replay.objects.get(pk=their_replay.pk).status == ReplayStatus.PENDING
    assert Replay.objects.filter(instance=theirs).count() == 1


def test_read_only_token_may_read_replays_but_not_start_preview_or_cancel(api_as, hook, day):
    replay = started(api_as(Role.MEMBER), hook, day.start, day.end)
    read_only = api_as(Role.READ_ONLY)
    path = replays_path(hook)

    assert read_only.get(path).json()["data"]["replays"] == [replay]
    assert read_only.get(f"{path}/{replay['id']}").json()["data"]["replay"] == replay
    for response in [
        read_only.post(path, body(day.start, day.end)),
        read_only.post(f"{path}/preview", body(day.start, day.end)),
        read_only.post(f"{path}/{replay['id']}/cancel"),
    ]:
        assert errors_of(response, 403)[0]["type"] == "forbidden"
    assert list(Replay.objects.values_list("status", flat=True)) == [ReplayStatus.PENDING]


def run_to_the_end(replay_id: str) -> None:
    """Advances the replay a second at a time and sends its jobs, as the sweep and the workers
    would, until it ends."""
    replay = Replay.objects.get(pk=replay_id)
    now = replay.created_at
    for _ in range(100):
        now += timedelta(seconds=1)
        send_in_line(replays.advance(replay_id, now))
        replay.refresh_from_db()
        if replay.is_finished:
            return
    raise AssertionError(f"replay still {replay.status}")


@pytest.mark.django_db(transaction=True)
def test_a_replay_started_through_the_api_is_queued_then_reports_what_it_sent(
    api, source, sink, broker
):
    day = archive_days(source, per_day=20, days=1, until=timezone.now())[0]
    hook = sending_hook(source, {"webhookUrls": [f"{sink.url}/hook"]})
    broker.delete("celery")  # the archived batches' routing, which this test does not run

    replay = started(api, hook, day.start, day.end, eventNames=["Event 0"])

    (message,) = [orjson.loads(m) for m in broker.lrange("celery", 0, -1)]
    assert message["headers"]["task"] == "delivery.tasks.advance_replay"
    assert message["headers"]["argsrepr"] == repr((replay["id"],))
    run_to_the_end(replay["id"])
    got = api.get(f"{replays_path(hook)}/{replay['id']}").json()["data"]["replay"]
    assert (got["status"], got["total"], got["sent"], got["failed"]) == ("FINISHED", 4, 4, 0)
    assert got["startedAt"] and got["finishedAt"] and len(sink.received) == 4
