"""Issue #8 end to end: one source with Webhooks, Amplitude and Mixpanel instances, filters on
one of them and a transformation on the source, delivered by a real Celery worker on Redis to
real HTTP servers standing in for the tools, from Segment's official Python library."""

import signal
import time

import orjson
import pytest
from segment.analytics import Client

from connections import filters, transformations
from connections.instances import set_enabled
from delivery.models import DeliveryCounter, Outcome
from tests.delivery.test_engine_workers import worker
from tests.factories import make_instance, make_source
from tests.processes import stop, wait_for
from tests.sinks import Sink

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tools():
    made = {name: Sink() for name in ("webhooks", "amplitude", "mixpanel")}
    yield made
    for sink in made.values():
        sink.close()


def amplitude_events(sink) -> list[dict]:
    return [
        e for r in sink.received if r.path == "/2/httpapi" for e in orjson.loads(r.body)["events"]
    ]


def mixpanel_events(sink) -> list[dict]:
    return [e for r in sink.received if r.path.startswith("/import") for e in orjson.loads(r.body)]


def mixpanel_profiles(sink) -> list[dict]:
    return [p for r in sink.received if r.path.startswith("/engage") for p in orjson.loads(r.body)]


def test_each_instance_receives_exactly_what_its_filters_and_the_transformation_say(
    live_server, catalog, workspace, tools, broker, tmp_path
):
    source = make_source(workspace, "javascript", name="Shop")
    hook = make_instance(
        source, "webhooks", settings={"webhookUrls": [f"{tools['webhooks'].url}/hook"]}
    )
    amp = make_instance(
        source, "amplitude", settings={"apiKey": "amp-key", "endpoint": tools["amplitude"].url}
    )
    mix = make_instance(source, "mixpanel", settings={"token": "mp-token", "apiKey": "mp-secret", "people": True,
                                                      "endpoint": tools["mixpanel"].url})  # fmt: skip
    for instance in (hook, amp, mix):
        set_enabled(instance, True, None)
    transformations.create_transformation(source, None, {
        "name": "Name orders as the spec does", "target": "track", "event_name": "Order Done",
        "new_event_name": "Order Completed", "drops": ["debug"]})  # fmt: skip
    no_tests = filters.create_filter(amp, None, title="No internal tests", condition="event = 'Internal Test'",
                                     actions=[{"type": "DROP"}])  # fmt: skip
    filters.create_filter(amp, None, title="No emails", condition="all",
                          actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}])  # fmt: skip

    proc, output = worker(tmp_path, broker)
    try:
        client = Client(source.write_keys.get().key, host=live_server.url, sync_mode=True)
        client.track(user_id="u1", event="Order Done",
                     properties={"revenue": 10, "debug": True, "email": "ada@example.com"})  # fmt: skip
        client.track(user_id="u1", event="Internal Test", properties={"email": "qa@example.com"})
        client.identify(user_id="u1", traits={"email": "ada@example.com", "plan": "pro"})
        client.page(user_id="u1", name="Home", properties={"url": "https://shop.example/"})

        wait_for(lambda: len(tools["webhooks"].received) >= 4 and len(amplitude_events(tools["amplitude"])) >= 2
                 and len(mixpanel_events(tools["mixpanel"])) >= 2 and mixpanel_profiles(tools["mixpanel"]),
                 timeout=90, interval=0.5, message="deliveries at the three tools")  # fmt: skip
        time.sleep(3)  # anything extra would arrive now

        # Webhooks: every call, transformed, nothing else removed.
        hooked = {m["type"] + ":" + (m.get("event") or m.get("name") or ""): m
                  for m in (orjson.loads(r.body) for r in tools["webhooks"].received)}  # fmt: skip
        assert sorted(hooked) == [
            "identify:",
            "page:Home",
            "track:Internal Test",
            "track:Order Completed",
        ]
        assert hooked["track:Order Completed"]["properties"] == {
            "revenue": 10,
            "email": "ada@example.com",
        }

        # Amplitude: its filters dropped the test event and the emails.
        events = {e["event_type"]: e for e in amplitude_events(tools["amplitude"])}
        assert sorted(events) == ["$identify", "Order Completed", "Viewed Home Page"]
        assert events["Order Completed"]["event_properties"] == {"revenue": 10}
        assert events["$identify"]["user_properties"] == {"email": "ada@example.com", "plan": "pro"}
        filtered = dict(
            DeliveryCounter.objects.filter(
                instance_id=amp.pk, outcome=Outcome.FILTERED
            ).values_list("reason", "count")
        )
        assert filtered == {f"filter {no_tests.pk}: dropped": 1}

        # Mixpanel: both track events (no filters on it), transformed, and the profile update;
        # it takes page calls only with a Track Pages setting, so that one is counted unsupported.
        names = sorted(e["event"] for e in mixpanel_events(tools["mixpanel"]))
        assert names == ["Internal Test", "Order Completed"]
        unsupported = DeliveryCounter.objects.filter(instance_id=mix.pk, outcome=Outcome.FILTERED)
        assert [(c.reason, c.count) for c in unsupported] == [
            ("page calls are sent to Mixpanel (Legacy) only when a Track Pages setting applies", 1)
        ]
        (profile,) = mixpanel_profiles(tools["mixpanel"])
        assert profile["$distinct_id"] == "u1" and profile["$set"]["$email"] == "ada@example.com"
    except AssertionError:
        print("".join(output.lines[-40:]))
        raise
    finally:
        stop(proc, sig=signal.SIGTERM)
