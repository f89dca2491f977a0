"""``GET /api/events/volume``: events stored per bucket, from the ingest counters (per source) or,
by name and type, from the archive through an indexed, bounded read; Segment's shape (checked with
the official SDK's models), refusals by name, and only the token's workspace."""

import base64
from datetime import UTC, timedelta

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from delivery import routing, volume
from delivery.models import IngestBatch
from segapp.models import Role
from tests.api.conftest import errors_of, validate_with_sdk
from tests.factories import make_source

HOUR = timedelta(hours=1)


def send(source, messages: list[dict]) -> None:
    """Posts ``messages`` to the tracking API with the source's write key, then routes the
    batch, as a worker would (routing counts what the source sent)."""
    key = base64.b64encode(f"{source.write_keys.get().key}:".encode()).decode()
    response = Client().post("/v1/batch", orjson.dumps({"batch": messages}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Basic {key}")  # fmt: skip
    assert response.status_code == 200, response.content
    for batch in IngestBatch.objects.filter(routed_at__isnull=True):
        routing.route_batch(batch.pk)


def window(**extra) -> dict:
    start = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0) - 2 * HOUR
    return {"startTime": start.isoformat(), "endTime": (start + 3 * HOUR).isoformat(),
            "granularity": "HOUR", **extra}  # fmt: skip


def result_of(response) -> list[dict]:
    assert response.status_code == 200, response.content[:1000]
    return response.json()["data"]["result"]


def totals(result, *keys) -> dict:
    return {tuple(r.get(k) for k in keys): r["total"] for r in result}


@pytest.fixture
def traffic(workspace, source):
    shop = make_source(workspace, "javascript", name="Shop")
    send(source, [
        {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1"},
        {"type": "track", "event": "Order Completed", "userId": "u2", "messageId": "m2"},
        {"type": "track", "event": "Order Completed", "userId": "u3", "messageId": "m3"},
        {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m4"},
        {"type": "identify", "userId": "u1", "messageId": "m5"},
    ])  # fmt: skip
    send(source, [{"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1"}])
    send(shop, [{"type": "page", "name": "Home", "anonymousId": f"a{n}"} for n in range(2)])
    return {"site": source, "shop": shop}


def test_volume_per_source_from_the_counters(api, traffic):
    response = api.get("/events/volume", **window())
    [everything] = result_of(response)
    assert everything["total"] == 7  # the duplicate messageId is not counted
    assert [p["count"] for p in everything["series"]] == [0, 0, 7]
    by_source = result_of(api.get("/events/volume", **window(groupBy="source")))
    site, shop = traffic["site"], traffic["shop"]
    assert [(r["source"], r["total"]) for r in by_source] == [
        ({"id": site.pk, "name": site.name, "slug": site.slug}, 5),
        ({"id": shop.pk, "name": shop.name, "slug": shop.slug}, 2),
    ]
    only_shop = result_of(api.get("/events/volume", **window(**{"sourceId[0]": shop.pk})))
    assert only_shop[0]["total"] == 2
    data = response.json()["data"]
    assert data["path"] == "/events/volume" and data["query"]["granularity"] == "HOUR"
    validate_with_sdk([{"model": "GetEventsVolumeFromWorkspaceV1Output", "value": value,
                        "label": label} for label, value in [
        ("all", data), ("bySource", api.get("/events/volume", **window(groupBy="source")).json()["data"]),
    ]])  # fmt: skip


def test_volume_by_event_name_and_type_from_the_archive(api, traffic):
    params = window(**{"groupBy[0]": "eventName", "groupBy[1]": "eventType"})
    response = api.get("/events/volume", **params)
    assert totals(result_of(response), "eventName", "eventType") == {
        ("Order Completed", "track"): 3, ("Signed Up", "track"): 1, ("", "identify"): 1,
        ("Home", "page"): 2,
    }  # fmt: skip
    named = result_of(api.get("/events/volume", **window(eventName="Order Completed,Signed Up")))
    assert [r["total"] for r in named] == [4]
    pages = api.get("/events/volume", **window(groupBy="source", **{"eventType[0]": "page"}))
    assert [(r["source"]["id"], r["total"]) for r in result_of(pages)] == [(traffic["shop"].pk, 2)]
    validate_with_sdk([{"model": "GetEventsVolumeFromWorkspaceV1Output",
                        "value": response.json()["data"], "label": "byName"}])  # fmt: skip


def test_a_window_too_large_for_the_archive_is_refused(api, traffic, monkeypatch):
    monkeypatch.setattr(volume, "ARCHIVE_LIMIT", 6)
    errors = errors_of(api.get("/events/volume", **window(groupBy="eventName")), 422)
    assert errors[0]["field"] == "startTime" and "7 events" in errors[0]["message"]
    assert result_of(api.get("/events/volume", **window(groupBy="source")))  # counters: no limit


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"appVersion": "1.2.0"}, "appVersion"),
        ({"groupBy": "appVersion"}, "groupBy"),
        ({"granularity": "WEEK"}, "granularity"),
        ({"granularity": "MINUTE"}, "startTime"),  # three hours is fine; see below
        ({"endTime": None}, "endTime"),
    ],
)
def test_bad_parameters_name_the_field(api, source, extra, field):
    params = {**window(), **extra}
    if extra.get("granularity") == "MINUTE":
        params["startTime"] = (timezone.now() - 5 * HOUR).isoformat()  # over four hours
    params = {k: v for k, v in params.items() if v is not None}
    assert errors_of(api.get("/events/volume", **params), 422)[0]["field"] == field


def test_other_workspaces_sources_look_absent(api, api_as, foreign, source):
    send(foreign["source"], [{"type": "track", "event": "Theirs", "userId": "x"}])
    errors = errors_of(api.get("/events/volume", **window(sourceId=foreign["source"].pk)), 404)
    assert errors[0]["field"] == "sourceId"
    assert result_of(api.get("/events/volume", **window()))[0]["total"] == 0
    reader = api_as(Role.READ_ONLY)
    assert reader.get("/events/volume", **window(groupBy="eventName")).status_code == 200


@pytest.mark.parametrize(
    # token, rate-limit upsert, sources, counters; by name: the counters' sum (the bound), then
    # the archive read through the window's batches (one query with its subquery)
    "group_by, expected",
    [("source", 4), ("eventName", 5)],
)
def test_query_count_is_the_same_for_1_and_20_series(
    api, workspace, django_assert_num_queries, group_by, expected
):
    api.get("/events/volume", **window())  # the first call marks the token used
    for count in (1, 20):
        while len(result_of(api.get("/events/volume", **window(groupBy=group_by)))) < count:
            n = len(workspace.sources.all())
            send(make_source(workspace, "javascript", name=f"Site {n}"),
                 [{"type": "track", "event": f"Event {n}", "userId": "u"}])  # fmt: skip
        with django_assert_num_queries(expected):
            found = result_of(api.get("/events/volume", **window(groupBy=group_by)))
        assert len(found) == count
