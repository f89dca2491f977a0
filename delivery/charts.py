"""A stacked bar chart as plain numbers for a server-rendered SVG (no chart library to ship).

Hovering a bar shows its numbers through the SVG ``<title>`` of its column, which browsers show
as a tooltip without any script. The time axis labels land at round times: every few minutes
for the short windows, hours for a day or less, days beyond.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

WIDTH, HEIGHT = 720, 160
AXIS_HEIGHT = 22  # below the bars, for the time labels
# Bottom to top, with the CSS class that colours each outcome.
LAYERS = [
    ("delivered", "bar-delivered"),
    ("filtered", "bar-filtered"),
    ("retrying", "bar-retrying"),
    ("discarded", "bar-failed"),
    ("dead_lettered", "bar-failed"),
]
STEP_SIZES = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
# (longest window, a label every): about six to eight labels per window.
TICK_SPACING = [
    (timedelta(minutes=10), timedelta(minutes=2)),
    (timedelta(hours=1), timedelta(minutes=10)),
    (timedelta(hours=6), timedelta(hours=1)),
    (timedelta(days=1), timedelta(hours=3)),
    (timedelta(days=7), timedelta(days=1)),
    (timedelta(days=14), timedelta(days=2)),
]


@dataclass
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass
class Column:
    """One bar: its layers and what hovering it says."""

    x: float
    width: float
    title: str
    rects: list[Rect] = field(default_factory=list)


@dataclass
class Tick:
    x_percent: str  # of the chart's width, so labels keep their size however wide the chart
    label: str
    is_minor: bool  # every other label, left out on narrow screens


def floor(moment: datetime, step: str) -> datetime:
    """The start of the bucket holding ``moment`` (as ``Trunc`` computes it in the database)."""
    moment = moment.replace(second=0, microsecond=0)
    if step in ("hour", "day"):
        moment = moment.replace(minute=0)
    if step == "day":
        moment = moment.replace(hour=0)
    return moment


def tick_label(moment: datetime, span: timedelta) -> str:
    return f"{moment:%b} {moment.day}" if span > timedelta(days=1) else f"{moment:%H:%M}"


def bar_label(moment: datetime, step: str) -> str:
    if step == "day":
        return f"{moment:%a} {moment:%b} {moment.day}"
    if step == "hour":
        return f"{moment:%b} {moment.day}, {moment:%H:%M}"
    return f"{moment:%H:%M}"


def hover_text(moment: datetime, step: str, point: dict) -> str:
    """ "12:05 — 120 delivered, 3 failed": delivered always, the other outcomes when present."""
    failed = point.get("discarded", 0) + point.get("dead_lettered", 0)
    parts = [f"{point.get('delivered', 0)} delivered"]
    parts += [f"{count} {name}" for name, count in (("filtered", point.get("filtered", 0)),
              ("retrying", point.get("retrying", 0)), ("failed", failed)) if count]  # fmt: skip
    return f"{bar_label(moment, step)} — {', '.join(parts)}"


def ticks(start: datetime, slots: int, size: timedelta, span: timedelta) -> list[Tick]:
    every = next((every for longest, every in TICK_SPACING if span <= longest), span / 6)
    found = []
    for index in range(slots):
        moment = start + index * size
        if moment.timestamp() % every.total_seconds() == 0:
            found.append(Tick(f"{100 * (index + 0.5) / slots:.3f}", tick_label(moment, span),
                              is_minor=len(found) % 2 == 1))  # fmt: skip
    return found


def stacked_bars(points: list[dict], start: datetime, end: datetime, step: str) -> dict:
    """``points``: ``{"at": bucket start, outcome: count, …}`` from ``metrics.series``."""
    size = STEP_SIZES[step]
    span = end - start
    start = floor(start, step)
    slots = max(1, int((end - start) / size) + 1)
    slot_width = WIDTH / slots
    peak = max((sum(p.get(o, 0) for o, _ in LAYERS) for p in points), default=0)
    columns = []
    for point in points:
        index = int((point["at"] - start) / size)
        if not 0 <= index < slots or not peak:
            continue
        column = Column(
            index * slot_width, max(slot_width - 1, 1), hover_text(point["at"], step, point)
        )
        y = HEIGHT
        for outcome, css in LAYERS:
            count = point.get(outcome, 0)
            if count:
                height = HEIGHT * count / peak
                y -= height
                column.rects.append(Rect(column.x, y, column.width, height, css))
        columns.append(column)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "full_height": HEIGHT + AXIS_HEIGHT,
        "label_y": HEIGHT + 16,
        "columns": columns,
        "ticks": ticks(start, slots, size, span),
        "peak": peak,
    }
