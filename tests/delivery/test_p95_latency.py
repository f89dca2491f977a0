"""P95 latency as a number: interpolated within the histogram bucket that holds it."""

import pytest

from delivery.metrics import Latency, percentile
from delivery.models import LATENCY_BOUNDS_MS


def histogram(**counts: int) -> list[int]:
    """``histogram(b3=100)``: 100 latencies in bucket 3 (500-1000 ms), none elsewhere."""
    buckets = [0] * (len(LATENCY_BOUNDS_MS) + 1)
    for name, count in counts.items():
        buckets[int(name[1:])] = count
    return buckets


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        # All in 500-1000 ms: 95% of the way through the bucket.
        (histogram(b3=100), 975.0),
        # 0-100 ms holds the 95th of 100 latencies too.
        (histogram(b0=100), 95.0),
        # 90 fast, 10 in 250-500 ms: the 95th is halfway through that bucket.
        (histogram(b0=90, b2=10), 375.0),
        # The 95th is the last latency of 250-500 ms: its upper bound.
        (histogram(b0=50, b1=30, b2=15, b3=5), 500.0),
        # Empty buckets between are skipped, not interpolated across.
        (histogram(b0=80, b5=20), 2500.0 + 2500.0 * 15 / 20),
        # 60 in 500-1000 ms, 40 in 1000-2500 ms: 35 of the 40 needed, 87.5% of 1500 ms.
        (histogram(b3=60, b4=40), 1000.0 + 1500.0 * 35 / 40),
    ],
)
def test_p95_is_interpolated_within_its_bucket(buckets, expected):
    assert percentile(buckets, 0.95) == Latency(pytest.approx(expected))


def test_p95_in_the_open_last_bucket_is_only_a_lower_bound():
    p95 = percentile(histogram(b0=90, b9=10), 0.95)
    assert p95 == Latency(60000.0, is_open_ended=True)
    assert str(p95) == "> 60,000 ms"


def test_p95_reads_as_an_estimate_and_is_absent_without_deliveries():
    assert str(percentile(histogram(b0=10, b3=10, b4=30), 0.95)) == "≈ 2,375 ms"
    assert percentile(histogram(), 0.95) is None
