"""Segment's own client libraries, pointed at a live Segapp, land every message once with the
server's enrichment."""

import json
import subprocess
from datetime import UTC, datetime, timedelta

from segment.analytics import Client
from segment.analytics.version import VERSION as PYTHON_CLIENT_VERSION

from delivery.models import Event, IngestBatch
from tests.processes import REPO

TYPES = {"identify", "track", "page", "screen", "group", "alias"}
NODE_CLIENT_VERSION = json.loads(
    (REPO / "tests/clients/node_modules/@segment/analytics-node/package.json").read_text()
)["version"]


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def assert_landed_once(source, message_ids: list[str], library: dict, track_timestamp: datetime):
    events = list(Event.objects.filter(source=source))
    assert sorted(e.message_id for e in events) == sorted(message_ids)
    assert len(message_ids) == 6 and {e.type for e in events} == TYPES
    assert {e.batch.source_id for e in events} == {source.pk}
    for event in events:
        message = event.message
        assert message["context"]["library"] == library
        assert message["context"]["ip"] == "127.0.0.1"
        received_at, sent_at = parse(message["receivedAt"]), parse(message["sentAt"])
        original = parse(message["originalTimestamp"])
        # timestamp = receivedAt - (sentAt - originalTimestamp), to the millisecond
        expected = received_at - (sent_at - original)
        assert abs(parse(message["timestamp"]) - expected) < timedelta(milliseconds=1)
        assert abs(event.timestamp - expected) < timedelta(milliseconds=1)
    track = next(e for e in events if e.type == "track")
    assert track.event_name == "Order Completed"
    # Client and server share a clock here, so the correction moves the timestamp by the
    # request's transit time only.
    assert abs(track.timestamp - track_timestamp) < timedelta(seconds=5)


def test_python_client_messages_land_once_with_corrected_timestamps(live_server, source, write_key):
    errors = []
    client = Client(
        write_key,
        host=live_server.url,
        gzip=True,
        max_retries=1,
        on_error=lambda error, batch: errors.append(error),
    )
    track_timestamp = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    results = [
        client.identify("py-user", {"plan": "pro"}),
        client.track("py-user", "Order Completed", {"revenue": 10}, timestamp=track_timestamp),
        client.page("py-user", "Docs", "Install"),
        client.screen("py-user", "Feed", "Home"),
        client.group("py-user", "group-1", {"name": "Acme"}),
        client.alias("py-user", "py-user-2"),
    ]
    client.shutdown()

    assert errors == [] and all(ok for ok, _ in results)
    library = {"name": "analytics-python", "version": PYTHON_CLIENT_VERSION}
    assert_landed_once(source, [m["messageId"] for _, m in results], library, track_timestamp)


def test_node_client_messages_land_once_with_corrected_timestamps(live_server, source, write_key):
    track_timestamp = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    completed = subprocess.run(
        ["node", "send_events.js", live_server.url, write_key, track_timestamp.isoformat()],
        cwd=REPO / "tests/clients",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    sent = json.loads(completed.stdout.strip().splitlines()[-1])
    assert set(sent["statuses"]) == {200}

    library = {"name": "@segment/analytics-node", "version": NODE_CLIENT_VERSION}
    assert_landed_once(source, sent["messageIds"], library, track_timestamp)
    assert IngestBatch.objects.filter(source=source).count() == len(sent["statuses"])
