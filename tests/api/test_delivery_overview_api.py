"""``/api/delivery-overview/{stage}``: Segment's Delivery Overview operations from the ingest and
delivery counters, in the SDK's shapes (checked with its models), with Segment's window rules,
what the counters cannot answer refused by name, and scoped to the token's workspace."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from delivery.counters import Tally, count_ingest
from delivery.models import Outcome
from delivery.overview import DUPLICATE_REASON
from segapp.models import Role
from tests.api.conftest import errors_of, validate_with_sdk
from tests.factories import make_instance, make_source

HOUR = timedelta(hours=1)


def this_hour() -> datetime:
    return timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def window(**extra) -> dict:
    """The last three whole hours and this one, hourly, as the SDK sends it."""
    start = this_hour() - 3 * HOUR
    return {"startTime": start.isoformat(), "endTime": (this_hour() + HOUR).isoformat(),
            "granularity": "hour", "pagination[count]": 10, **extra}  # fmt: skip


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(instance, at: datetime, outcome, reason="", count=1):
    tally = Tally()
    tally.add(instance.pk, at, outcome, reason, count=count)
    tally.flush()


def data_of(response) -> dict:
    assert response.status_code == 200, response.content[:1000]
    return response.json()["data"]


def test_ingest_stages_count_per_bucket(api, source):
    now = timezone.now()
    count_ingest(source.pk, now, accepted=3, rejected=2, duplicates=1)
    count_ingest(source.pk, now - HOUR, accepted=4, rejected=0, duplicates=0)
    count_ingest(source.pk, now - 6 * HOUR, accepted=50, rejected=5, duplicates=5)  # outside
    received = data_of(
        api.get("/delivery-overview/successfully-received", **window(sourceId=source.pk))
    )
    assert received["total"] == 8
    [series] = received["dataset"]
    assert set(series) == {"total", "series"}
    assert [point["time"] for point in series["series"]] == [
        stamp(this_hour() - n * HOUR) for n in (3, 2, 1, 0)
    ]
    assert [point["count"] for point in series["series"]] == [0, 0, 4, 4]
    failed = data_of(api.get("/delivery-overview/failed-on-ingest", **window(sourceId=source.pk)))
    assert failed["total"] == 2
    filtered = data_of(api.get("/delivery-overview/filtered-at-source",
                               **window(sourceId=source.pk, **{"groupBy[0]": "discardReason"})))  # fmt: skip
    assert [(d["discardReason"], d["total"]) for d in filtered["dataset"]] == [
        (DUPLICATE_REASON, 1)
    ]
    validate_with_sdk([
        {"model": "GetDeliveryOverviewMetricsBetaOutput", "value": value, "label": label}
        for label, value in [("received", received), ("failed", failed), ("filtered", filtered)]
    ])  # fmt: skip


def test_delivery_stages_by_reason(api, source, instance):
    now = timezone.now()
    record(instance, now, Outcome.DELIVERED, count=5)
    record(instance, now - HOUR, Outcome.DELIVERED, count=2)
    record(instance, now, Outcome.FILTERED, "filter f1: dropped", count=3)
    record(instance, now, Outcome.FILTERED, 'integrations object: "All": false', count=1)
    record(instance, now, Outcome.DISCARDED, "HTTP 400: bad", count=2)
    record(instance, now - HOUR, Outcome.DEAD_LETTERED, "HTTP 503: busy", count=4)
    record(instance, now, Outcome.RETRYING, "HTTP 503: busy", count=9)  # not failed yet
    params = window(sourceId=source.pk, destinationConfigId=instance.pk)
    delivered = data_of(api.get("/delivery-overview/successful-delivery", **params))
    assert delivered["total"] == 7
    assert [p["count"] for p in delivered["dataset"][0]["series"]] == [0, 0, 2, 5]
    failed = data_of(api.get("/delivery-overview/failed-delivery", **params,
                             **{"groupBy[0]": "discardReason"}))  # fmt: skip
    assert failed["total"] == 6
    assert [(d["discardReason"], d["total"]) for d in failed["dataset"]] == [
        ("HTTP 503: busy", 4), ("HTTP 400: bad", 2),
    ]  # fmt: skip
    filtered = data_of(api.get("/delivery-overview/filtered-at-destination", **params,
                               groupBy="discardReason",
                               **{"filter[discardReason][0]": "filter f1: dropped"}))  # fmt: skip
    assert [(d["discardReason"], d["total"]) for d in filtered["dataset"]] == [
        ("filter f1: dropped", 3)
    ]
    # A page of datasets: the SDK's pagination object, and the total of every dataset.
    paged = data_of(api.get("/delivery-overview/failed-delivery",
                            **{**params, "pagination[count]": 1}, groupBy="discardReason"))  # fmt: skip
    assert len(paged["dataset"]) == 1 and paged["total"] == 6
    assert paged["pagination"]["totalEntries"] == 2 and paged["pagination"]["next"]
    validate_with_sdk([
        {"model": "GetDeliveryOverviewMetricsBetaOutput", "value": value, "label": label}
        for label, value in [("delivered", delivered), ("failed", failed), ("paged", paged)]
    ])  # fmt: skip


@pytest.mark.parametrize(
    "stage, extra, field",
    [
        ("successful-delivery", {"groupBy[0]": "eventName"}, "groupBy"),
        ("failed-delivery", {"filter[eventType][0]": "track"}, "filter.eventType"),
        ("successful-delivery", {"groupBy": "discardReason"}, "groupBy"),
        ("successful-delivery", {"filter[discardReason][0]": "successes.attempt.2"},
         "filter.discardReason"),
        ("successfully-received", {"groupBy": "discardReason"}, "groupBy"),
        ("failed-delivery", {"groupBy": "country"}, "groupBy"),
        ("failed-delivery", {"granularity": "week"}, "granularity"),
        ("failed-delivery", {"granularity": "minute",  # 4 hours at most
                             "startTime": (this_hour() - 5 * HOUR).isoformat()}, "startTime"),
        ("failed-delivery", {"destinationConfigId": None}, "destinationConfigId"),
        ("failed-delivery", {"subscriptionId": "sub1"}, "subscriptionId"),
        ("failed-on-ingest", {"endTime": None}, "endTime"),
    ],
)  # fmt: skip
def test_what_cannot_be_answered_is_refused_by_name(api, source, instance, stage, extra, field):
    params = {**window(sourceId=source.pk, destinationConfigId=instance.pk), **extra}
    params = {k: v for k, v in params.items() if v is not None}
    errors = errors_of(api.get(f"/delivery-overview/{stage}", **params), 422)
    assert errors[0]["field"] == field, errors


def test_a_destination_of_another_source_is_refused(api, workspace, source, instance):
    other = make_source(workspace, "javascript", name="Other site")
    params = window(sourceId=other.pk, destinationConfigId=instance.pk)
    errors = errors_of(api.get("/delivery-overview/failed-delivery", **params), 422)
    assert errors[0]["field"] == "destinationConfigId"


def test_other_workspaces_ids_look_absent(api, api_as, foreign, source, instance):
    theirs = foreign["instance"]
    for params in (window(sourceId=theirs.source_id, destinationConfigId=theirs.pk),
                   window(sourceId=source.pk, destinationConfigId=theirs.pk)):  # fmt: skip
        errors_of(api.get("/delivery-overview/successful-delivery", **params), 404)
    errors_of(api.get("/delivery-overview/successfully-received",
                      **window(sourceId=theirs.source_id)), 404)  # fmt: skip
    reader = api_as(Role.READ_ONLY)
    params = window(sourceId=source.pk, destinationConfigId=instance.pk)
    assert reader.get("/delivery-overview/failed-delivery", **params).status_code == 200


def test_query_count_is_the_same_for_1_and_20_reasons(api, source, django_assert_num_queries):
    instance = make_instance(source, "webhooks", name="Counted")
    params = window(sourceId=source.pk, destinationConfigId=instance.pk, groupBy="discardReason",
                    **{"pagination[count]": 100})  # fmt: skip
    api.get("/delivery-overview/failed-delivery", **params)  # the first call marks the token used
    for reasons in (1, 20):
        for n in range(reasons):
            record(instance, timezone.now(), Outcome.DISCARDED, f"HTTP 4{n:02}: no", count=1)
        # token, rate-limit upsert, source, instance, counters
        with django_assert_num_queries(5):
            found = data_of(api.get("/delivery-overview/failed-delivery", **params))
        assert len(found["dataset"]) == reasons
