"""Archived events over simulated days, stored through the tracking API's own intake (what
``/v1/batch`` calls once it has read a request) with the day's time as ``receivedAt``."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction

from delivery import routing
from delivery.ingest import intake, parse

TYPES = ["track"] * 8 + ["identify", "page"]


@dataclass
class Day:
    start: datetime
    end: datetime
    received_at: datetime
    messages: list = field(default_factory=list)
    batch_ids: list = field(default_factory=list)
    job_ids: list = field(default_factory=list)  # live routing's jobs


def archive_days(source, *, per_day: int, days: int, until: datetime, per_batch: int = 20):
    """``days`` days of ``per_day`` messages each, ending a day before ``until``; every day's
    messages arrive at noon in batches of ``per_batch`` (so a day is [00:00, 24:00)), and each
    batch is routed then, to the instances the source had at the time."""
    ref = parse.SourceRef(source.pk, source.workspace_id)
    first = (until - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    result = []
    for d in range(days):
        start = first + timedelta(days=d)
        day = Day(start, start + timedelta(days=1), start + timedelta(hours=12))
        for n in range(per_day):
            kind = TYPES[n % len(TYPES)]
            message = {"type": kind, "messageId": f"day{d}-{n}-{uuid.uuid4().hex[:8]}",
                       "userId": f"user-{n}", "timestamp": day.received_at.isoformat()}  # fmt: skip
            if kind == "track":
                message |= {"event": f"Event {n % 5}", "properties": {"n": n}}
            elif kind == "page":
                message["name"] = "Home"
            else:
                message["traits"] = {"plan": "pro"}
            day.messages.append(message)
        for i in range(0, per_day, per_batch):
            chunk = day.messages[i : i + per_batch]
            body = {"batch": chunk}
            with transaction.atomic():
                outcome = intake.accept(
                    ref, body, body_size=len(str(body)), single_type=None,
                    received_at=day.received_at, ip="127.0.0.1",
                )  # fmt: skip
            assert not outcome.rejected, outcome.rejected
            day.batch_ids.append(outcome.batch_id)
            day.job_ids += routing.route_batch(outcome.batch_id)
        result.append(day)
    return result


def send_in_line(job_ids) -> None:
    """Sends the jobs as workers would, each followed by the job it hands its slot on to (a
    replay's jobs go one at a time in line)."""
    from delivery import deliveries

    for job_id in job_ids:
        while job_id is not None:
            job_id = deliveries.deliver_job(job_id)
