"""Event Delivery's chart: time labels that suit the window, and each bar's numbers on hover."""

from datetime import UTC, datetime

import pytest

from delivery import charts, metrics

END = datetime(2025, 3, 12, 14, 37, 20, tzinfo=UTC)


def chart(window: str, points=()):
    start = END - metrics.WINDOWS[window]
    return charts.stacked_bars(list(points), start, END, metrics.step_for(END - start))


@pytest.mark.parametrize(
    ("window", "labels"),
    [
        ("10m", ["14:28", "14:30", "14:32", "14:34", "14:36"]),
        ("1h", ["13:40", "13:50", "14:00", "14:10", "14:20", "14:30"]),
        ("6h", ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00"]),
        ("24h", ["15:00", "18:00", "21:00", "00:00", "03:00", "06:00", "09:00", "12:00"]),
        ("7d", ["Mar 5", "Mar 6", "Mar 7", "Mar 8", "Mar 9", "Mar 10", "Mar 11", "Mar 12"]),
        ("14d", ["Feb 27", "Mar 1", "Mar 3", "Mar 5", "Mar 7", "Mar 9", "Mar 11"]),
    ],
)
def test_time_axis_labels_suit_the_window(window, labels):
    ticks = chart(window)["ticks"]
    assert [t.label for t in ticks] == labels
    assert [t.is_minor for t in ticks] == [i % 2 == 1 for i in range(len(labels))]
    positions = [float(t.x_percent) for t in ticks]
    assert positions == sorted(positions) and positions[0] > 0 and positions[-1] < 100


def test_hovering_a_bar_names_its_time_and_counts():
    at = datetime(2025, 3, 12, 14, 5, tzinfo=UTC)
    columns = chart("1h", [{"at": at, "delivered": 120, "discarded": 2, "dead_lettered": 1}])[
        "columns"
    ]
    assert [c.title for c in columns] == ["14:05 — 120 delivered, 3 failed"]
    assert [r.css for r in columns[0].rects] == ["bar-delivered", "bar-failed", "bar-failed"]
    assert sum(r.height for r in columns[0].rects) == pytest.approx(charts.HEIGHT)

    day = datetime(2025, 3, 10, tzinfo=UTC)
    (column,) = chart("7d", [{"at": day, "delivered": 5, "filtered": 4, "retrying": 1}])["columns"]
    assert column.title == "Mon Mar 10 — 5 delivered, 4 filtered, 1 retrying"
