"""A stacked bar chart as plain numbers for a server-rendered SVG (no chart library to ship)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH, HEIGHT = 720, 160
# Bottom to top, with the CSS class that colours each outcome.
LAYERS = [
    ("delivered", "bar-delivered"),
    ("filtered", "bar-filtered"),
    ("retrying", "bar-retrying"),
    ("discarded", "bar-failed"),
    ("dead_lettered", "bar-failed"),
]


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


def floor(moment: datetime, step: str) -> datetime:
    """The start of the bucket holding ``moment`` (as ``Trunc`` computes it in the database)."""
    moment = moment.replace(second=0, microsecond=0)
    if step in ("hour", "day"):
        moment = moment.replace(minute=0)
    if step == "day":
        moment = moment.replace(hour=0)
    return moment


def stacked_bars(points: list[dict], start: datetime, end: datetime, step: str) -> dict:
    """``points``: ``{"at": bucket start, outcome: count, …}`` from ``metrics.series``."""
    size = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}[
        step
    ]
    start = floor(start, step)
    slots = max(1, int((end - start) / size) + 1)
    slot_width = WIDTH / slots
    peak = max((sum(p.get(o, 0) for o, _ in LAYERS) for p in points), default=0)
    rects = []
    for point in points:
        index = int((point["at"] - start) / size)
        if not 0 <= index < slots:
            continue
        y = HEIGHT
        for outcome, css in LAYERS:
            count = point.get(outcome, 0)
            if not count or not peak:
                continue
            height = HEIGHT * count / peak
            y -= height
            rects.append(
                Rect(
                    index * slot_width,
                    y,
                    max(slot_width - 1, 1),
                    height,
                    css,
                    f"{point['at']:%Y-%m-%d %H:%M} {outcome.replace('_', ' ')}: {count}",
                )
            )
    return {"width": WIDTH, "height": HEIGHT, "rects": rects, "peak": peak}
