"""When a warehouse syncs next: every N minutes by plan (or the Business interval chosen), or at
the enabled hours of Segment's advanced schedule, in its time zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from segapp.refusal import Refusal
from warehouses.rules import PLAN_INTERVAL


def interval_minutes(warehouse) -> int:
    return warehouse.sync_every_minutes or PLAN_INTERVAL[warehouse.workspace.plan]


def clean_advanced(schedule: dict) -> dict:
    """Segment's ``{"times": [{"hourOfDay", "enabled"}], "timezone"}``, checked."""
    if not isinstance(schedule, dict):
        raise Refusal("Send times and a timezone.", rule="invalid-schedule", field="schedule")
    zone = schedule.get("timezone") or "UTC"
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise Refusal(
            f"{zone!r} is not a time zone of the tz database.",
            rule="invalid-schedule",
            field="schedule.timezone",
        ) from None
    times = schedule.get("times")
    if not isinstance(times, list):
        raise Refusal("times must be a list.", rule="invalid-schedule", field="schedule.times")
    cleaned = {}
    for time in times:
        hour = time.get("hourOfDay") if isinstance(time, dict) else None
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise Refusal(
                "Each time needs an hourOfDay from 0 to 23.",
                rule="invalid-schedule",
                field="schedule.times",
            )
        cleaned[hour] = bool(time.get("enabled", True))
    return {
        "times": [{"hourOfDay": h, "enabled": on} for h, on in sorted(cleaned.items())],
        "timezone": str(zone),
    }


def next_sync(warehouse, after: datetime) -> datetime:
    """The first scheduled time after ``after``."""
    if warehouse.advanced_schedule_enabled:
        hours = {
            t["hourOfDay"] for t in warehouse.advanced_schedule.get("times", []) if t["enabled"]
        }
        if hours:
            zone = ZoneInfo(warehouse.advanced_schedule.get("timezone") or "UTC")
            local = after.astimezone(zone).replace(minute=0, second=0, microsecond=0)
            for step in range(1, 49):
                candidate = local + timedelta(hours=step)
                if candidate.hour in hours:
                    return candidate.astimezone(after.tzinfo)
    return after + timedelta(minutes=interval_minutes(warehouse))
