"""``/api/destinations/{id}/delivery-metrics``: Segment's shape (checked with the official SDK's
models), counts from the per-minute counters within the window, validation and scoping."""

from datetime import timedelta

from django.utils import timezone

from delivery.counters import Tally
from delivery.models import Outcome
from segapp.models import Role
from tests.api.conftest import errors_of, validate_with_sdk


def record(instance, ago: timedelta, outcome, reason="", count=1, latencies=()):
    tally = Tally()
    tally.add(instance.pk, timezone.now() - ago, outcome, reason, latencies_ms=latencies,
              count=None if latencies else count)  # fmt: skip
    tally.flush()


def metrics_of(response) -> dict:
    assert response.status_code == 200, response.content[:1000]
    summary = response.json()["data"]["deliveryMetricsSummary"]
    return {m["metricName"]: (m["total"], {b["metricName"]: b["value"] for b in m["breakdown"]})
            for m in summary["metrics"]}  # fmt: skip


def test_counts_in_the_window_by_outcome_and_reason(
    api, source, instance, django_assert_max_num_queries
):
    record(instance, timedelta(minutes=5), Outcome.DELIVERED, latencies=[120, 300, 80])
    record(instance, timedelta(minutes=10), Outcome.DISCARDED, "HTTP 400: bad", count=2)
    record(instance, timedelta(minutes=20), Outcome.FILTERED, "filter f1: dropped", count=4)
    record(instance, timedelta(minutes=21), Outcome.FILTERED, 'integrations object: "All": false')
    record(instance, timedelta(minutes=30), Outcome.RETRYING, "HTTP 503: busy")
    record(instance, timedelta(minutes=40), Outcome.DEAD_LETTERED, "HTTP 503: busy")
    record(instance, timedelta(hours=3), Outcome.DELIVERED, latencies=[10] * 7)  # outside 1 hour
    url = f"/destinations/{instance.pk}/delivery-metrics"
    with django_assert_max_num_queries(8):
        response = api.get(url, sourceId=source.pk)
    found = metrics_of(response)
    assert found == {
        "successes": (3, {}),
        "discarded": (2, {"HTTP 400: bad": 2}),
        "retried": (1, {"HTTP 503: busy": 1}),
        "filtered": (5, {"filter f1: dropped": 4, 'integrations object: "All": false': 1}),
        "expired": (1, {"HTTP 503: busy": 1}),
    }
    start = (timezone.now() - timedelta(hours=4)).isoformat()
    assert metrics_of(api.get(url, sourceId=source.pk, startTime=start))["successes"][0] == 10
    data = response.json()["data"]
    assert data["deliveryMetricsSummary"]["destinationMetadataId"] == instance.metadata_id
    validate_with_sdk([{"model": "ListDeliveryMetricsSummaryFromDestinationBetaOutput", "value": data,
                        "label": "listDeliveryMetricsSummaryFromDestination"}])  # fmt: skip


def test_invalid_windows_name_the_field(api, source, instance):
    url = f"/destinations/{instance.pk}/delivery-metrics"
    assert errors_of(api.get(url), 422)[0]["field"] == "sourceId"
    assert errors_of(api.get(url, sourceId="other"), 422)[0]["field"] == "sourceId"
    long_ago = (timezone.now() - timedelta(hours=10)).isoformat()
    assert (
        errors_of(api.get(url, sourceId=source.pk, startTime=long_ago), 422)[0]["field"]
        == "startTime"
    )
    assert (
        errors_of(api.get(url, sourceId=source.pk, granularity="WEEK"), 422)[0]["field"]
        == "granularity"
    )
    assert api.get(url, sourceId=source.pk, granularity="DAY").status_code == 200


def test_other_workspaces_destinations_look_absent(api, api_as, foreign, source, instance):
    theirs = foreign["instance"]
    errors_of(
        api.get(f"/destinations/{theirs.pk}/delivery-metrics", sourceId=theirs.source_id), 404
    )
    reader = api_as(Role.READ_ONLY)
    assert (
        reader.get(f"/destinations/{instance.pk}/delivery-metrics", sourceId=source.pk).status_code
        == 200
    )
