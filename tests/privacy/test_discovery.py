"""Field discovery: events sent through the tracking API reach the Inbox only when the sweep
samples the archive, with the matchers' suggestions and where each field was seen; the sample
is bounded per source and per run, and the writes per run do not grow with the events read."""

import base64
import copy
import json
from pathlib import Path

import orjson
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connections.models import Source
from delivery import field_discovery, tasks
from delivery.models import Event
from privacy import custom_matchers, discovery, inventory
from privacy.models import DiscoveryCursor, Field, FieldSighting
from tests.factories import make_source, make_workspace

EVENTS = json.loads((Path(__file__).parent / "fixtures" / "events.json").read_text())


def event(name: str, **changes) -> dict:
    message = copy.deepcopy(EVENTS[name])
    for path, value in changes.items():
        *parents, key = path.split("__")
        target = message
        for part in parents:
            target = target.setdefault(part, {})
        target[key] = value
    return message


def send(client, source, messages: list[dict]) -> None:
    auth = "Basic " + base64.b64encode(f"{source.write_keys.get().key}:".encode()).decode()
    body = orjson.dumps({"batch": messages})
    response = client.post("/v1/batch", body, content_type="application/json",
                           headers={"Authorization": auth})  # fmt: skip
    assert response.status_code == 200, response.content


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


def fields(workspace) -> dict[str, Field]:
    return {f.path: f for f in Field.objects.filter(workspace=workspace)}


def test_the_tracking_api_stores_events_without_discovering_anything(client, source):
    send(client, source, [event("identify")])
    assert Event.objects.count() == 1
    assert not Field.objects.exists()


def test_new_fields_reach_the_inbox_with_suggestions_and_sightings(client, source, workspace):
    send(client, source, [event("identify"), event("order_completed"), event("page")])
    outcome = field_discovery.run()
    assert outcome["events"] == 3
    found = fields(workspace)
    expected = {
        "traits.email": ("yellow", "email"),
        "traits.firstName": ("yellow", "name"),
        "traits.plan": ("green", ""),
        "traits.address.street": ("yellow", "street"),
        "traits.address.city": ("yellow", "city"),
        "traits.address.postalCode": ("yellow", "zipcode"),
        "context.ip": ("yellow", "ip"),
        "context.device.token": ("red", "token"),
        "context.library.name": ("green", ""),
        "context.traits.email": ("yellow", "email"),
        # Matched on its value: a card number under a name that says nothing.
        "properties.paymentReference": ("red", "credit card"),
        "properties.products": ("green", ""),
        "properties.url": ("green", ""),
    }
    for path, (suggested, matcher) in expected.items():
        assert (found[path].suggested, found[path].suggested_by) == (suggested, matcher), path
    assert all(f.classification == "" for f in found.values())  # the Inbox
    sightings = {
        (s.field.path, s.event, s.count)
        for s in FieldSighting.objects.select_related("field").filter(source=source)
    }
    assert ("context.ip", "identify", 1) in sightings
    assert ("context.ip", "track Order Completed", 1) in sightings
    assert ("properties.title", "page Pricing", 1) in sightings


def test_nested_objects_are_dotted_paths_to_a_depth_and_arrays_are_fields(client, source):
    send(client, source, [event("order_completed")])
    field_discovery.run()
    paths = set(Field.objects.values_list("path", flat=True))
    assert "properties.products" in paths
    assert not any(p.startswith("properties.products.") for p in paths)
    deepest = "properties.coupon.owner.contact.phone.mobile"  # six segments: an object here
    assert deepest in paths and not any(p.startswith(deepest + ".") for p in paths)
    assert "properties.coupon.code" in paths


def test_a_second_run_counts_sightings_without_new_fields(client, source, workspace):
    send(client, source, [event("identify")])
    field_discovery.run()
    send(client, source, [event("identify"), event("identify")])
    outcome = field_discovery.run()
    assert outcome["new_fields"] == 0
    sighting = FieldSighting.objects.get(field__path="traits.email", source=source)
    assert sighting.count == 3 and sighting.event == "identify"
    assert field_discovery.run() == {"events": 0}  # nothing new since


def test_classified_fields_keep_their_classification(client, source, workspace, owner):
    send(client, source, [event("order_completed", properties__ref="abc")])
    field_discovery.run()
    ref = Field.objects.get(path="properties.ref")
    inventory.classify(workspace, owner, [ref.pk], "green")
    send(client, source, [event("order_completed", properties__ref="078-05-1120")])
    field_discovery.run()
    ref.refresh_from_db()
    assert (ref.classification, ref.suggested, ref.suggested_by) == ("green", "green", "")


def test_an_inbox_suggestion_gets_stricter_when_new_values_call_for_it(client, source):
    send(client, source, [event("order_completed", properties__ref="abc")])
    field_discovery.run()
    assert Field.objects.get(path="properties.ref").suggested == "green"
    send(client, source, [event("order_completed", properties__ref="078-05-1120")])
    field_discovery.run()
    ref = Field.objects.get(path="properties.ref")
    assert (ref.suggested, ref.suggested_by) == ("red", "social security number")


def test_a_custom_matcher_suggests_for_new_fields(client, source, workspace, owner):
    custom_matchers.create_matcher(
        workspace, owner, name="Plan tier", classification="red", match_on="key", pattern="plan"
    )
    send(client, source, [event("identify")])
    field_discovery.run()
    plan = Field.objects.get(path="traits.plan")
    assert (plan.suggested, plan.suggested_by) == ("red", "Plan tier")


def test_each_workspace_has_its_own_fields(client, source, workspace, catalog):
    other = make_source(make_workspace(name="Other"), "javascript", name="Other site")
    send(client, source, [event("page")])
    send(client, other, [event("identify")])
    field_discovery.run()
    assert "traits.email" not in fields(workspace)
    assert "traits.email" in fields(other.workspace)
    assert "properties.title" not in fields(other.workspace)


def test_a_run_reads_at_most_its_share_of_each_source_and_skips_the_backlog(client, source):
    many = field_discovery.EVENTS_PER_SOURCE + 30
    send(client, source, [event("identify") for _ in range(many)])
    outcome = field_discovery.run()
    assert outcome["events"] == field_discovery.EVENTS_PER_SOURCE
    assert FieldSighting.objects.get(field__path="traits.email").count == outcome["events"]
    cursor = DiscoveryCursor.objects.get(name=field_discovery.CURSOR)
    assert cursor.read_through == Event.objects.order_by("-pk").first().pk
    assert field_discovery.run() == {"events": 0}


def test_a_run_stops_at_its_budget_and_the_next_starts_with_the_sources_left_out(
    client, source, workspace, monkeypatch
):
    make_source(workspace, "javascript", name="App")
    make_source(workspace, "http-api", name="Backend")
    in_order = list(Source.objects.order_by("pk"))
    monkeypatch.setattr(field_discovery, "EVENTS_PER_RUN", 10)
    sampled = []
    for _ in in_order:
        for each in in_order:
            send(client, each, [event("identify") for _ in range(15)])
        before = set(FieldSighting.objects.values_list("source_id", flat=True))
        assert field_discovery.run()["events"] == 10
        sampled += set(FieldSighting.objects.values_list("source_id", flat=True)) - before
    assert sampled == [s.pk for s in in_order]


def statements(run) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [q["sql"] for q in captured.captured_queries]


def test_writes_per_run_do_not_grow_with_the_events_read(client, source):
    send(client, source, [event("identify")])
    field_discovery.run()  # the fields exist from here on
    send(client, source, [event("identify")])
    one = statements(field_discovery.run)
    send(client, source, [event("identify") for _ in range(40)])
    forty = statements(field_discovery.run)
    assert len(forty) == len(one)
    writes = [s for s in forty if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    # The sightings' upsert and the cursor: no field row is rewritten within LAST_SEEN_STEP.
    assert len(writes) == 2, writes


def test_the_sweep_is_registered_and_runs_as_its_task(client, source):
    assert "delivery.tasks.discover_fields" in settings.SWEEPS
    send(client, source, [event("identify")])
    tasks.discover_fields()
    assert Field.objects.filter(path="traits.email").exists()


def test_sample_values_are_never_stored(client, source):
    send(client, source, [event("identify")])
    field_discovery.run()
    stored = [
        json.dumps(list(Field.objects.values()), default=str),
        json.dumps(list(FieldSighting.objects.values()), default=str),
    ]
    assert not any("jane@example.com" in text for text in stored)


def test_fields_of_a_message_in_plain_data():
    found = dict(discovery.fields_of({"traits": {"a": {"b": 1}, "": 2}, "properties": [1]}))
    assert found == {"traits.a.b": 1}
    assert discovery.event_label({"type": "screen", "name": "Home"}) == "screen Home"
    assert discovery.event_label({"type": "track", "event": "Signed Up"}) == "track Signed Up"
    assert discovery.event_label({"type": "alias"}) == "alias"
