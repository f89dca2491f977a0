"""The Event Tester: one event through one instance's real path, sent to a real HTTP sink, with
exactly what went out and what came back on the page, secrets masked and nothing counted."""

import html
import re

import orjson
import pytest
from django.urls import reverse

from connections import filters, transformations
from connections.instances import set_enabled, set_mode
from delivery.models import (
    DeliveryCounter,
    DeliveryError,
    DeliveryJob,
    Event,
    IngestBatch,
    InstanceHealth,
)
from segapp.jsondepth import MAX_DEPTH
from tests.delivery.conftest import NESTED, with_nesting
from tests.factories import make_instance, make_source, make_workspace
from tests.sinks import Reply

SECRET = "hush-hush-very-secret"
TRACK = {
    "type": "track",
    "event": "Order Completed",
    "userId": "user-7",
    "messageId": "tester-1",
    "properties": {"revenue": 25, "coupon": "SPRING"},
}
HTMX = {"HX-Request": "true", "HX-Target": "tester-result"}


@pytest.fixture(autouse=True)
def private_egress(settings):
    settings.EGRESS_ALLOW_PRIVATE = True


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def hook(source, sink):
    return make_instance(
        source,
        "webhooks",
        name="Hook",
        settings={"webhookUrls": [f"{sink.url}/hook"], "sharedSecret": SECRET},
    )


@pytest.fixture
def owner_client(client_as, owner):
    return client_as(owner)


def page_url(instance) -> str:
    return reverse("delivery:event-tester", args=[instance.workspace.slug, instance.pk])


def send(client, instance, event, **headers):
    text = event if isinstance(event, str) else orjson.dumps(event).decode()
    response = client.post(page_url(instance), {"event": text}, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def parts(page: str, name: str) -> list[str]:
    return [html.unescape(p) for p in re.findall(rf'data-part="{name}">(.*?)</', page, re.S)]


def assert_nothing_stored():
    for model in (DeliveryCounter, DeliveryJob, DeliveryError, Event, IngestBatch, InstanceHealth):
        assert not model.objects.exists(), model.__name__


@pytest.mark.parametrize(
    "reply, verdict",
    [
        (Reply(status=503, body=b"busy"), "Would retry"),
        (Reply(status=200, body=b"thanks"), "Delivered"),
        (Reply(status=400, body=b"bad field"), "Discarded"),
    ],
)
def test_sends_to_the_sink_and_shows_the_exact_exchange_and_verdict(
    owner_client, hook, sink, reply, verdict
):
    sink.replies = [reply]
    page = send(owner_client, hook, TRACK)
    (received,) = sink.received
    assert (received.method, received.path) == ("POST", "/hook")
    assert parts(page, "request-body") == [received.body.decode()]
    sent = orjson.loads(received.body)
    assert (sent["event"], sent["messageId"], sent["context"]["ip"]) == (
        "Order Completed",
        "tester-1",
        "127.0.0.1",
    )
    assert "receivedAt" in sent  # enriched as the tracking API would store it
    assert f"POST {sink.url}/hook" in page
    assert parts(page, "response-status") == [f"HTTP {reply.status}"]
    assert parts(page, "response-body") == [reply.body.decode()]
    assert f'<span class="badge">{verdict}</span>' in page
    assert SECRET not in page
    assert_nothing_stored()


def test_the_tester_is_no_signing_oracle(owner_client, hook, sink):
    """Whoever may test writes the body: signing it with the shared secret would let them forge
    events the webhook's receiver trusts. The page says the request went unsigned."""
    forged = {**TRACK, "event": "Refund Issued", "properties": {"amount": 10_000}}
    page = send(owner_client, hook, forged)
    (received,) = sink.received
    assert "x-signature" not in received.headers
    assert parts(page, "unsigned") == [
        "Sent without a signature: the Event Tester never signs with the Shared Secret, because "
        "you choose what it sends. Deliveries of real events are signed."
    ]
    assert "X-Signature" not in page


def test_a_disabled_instance_can_be_tested_and_the_page_says_so(owner_client, hook, sink):
    assert not hook.enabled
    page = owner_client.get(page_url(hook)).content.decode()
    assert "This instance is disabled" in page
    send(owner_client, hook, TRACK)
    assert len(sink.received) == 1
    set_enabled(hook, True, None)
    assert "This instance is disabled" not in owner_client.get(page_url(hook)).content.decode()


def test_a_dropping_filter_is_named_and_nothing_is_sent(owner_client, hook, sink):
    drop = filters.create_filter(hook, None, title="No orders", condition='event = "Order Completed"',
                                 actions=[{"type": "DROP"}])  # fmt: skip
    page = send(owner_client, hook, TRACK)
    assert "Not sent" in page and f"filter {drop.pk}: dropped" in page
    assert "No orders" in page
    assert not sink.received
    assert_nothing_stored()


def test_transformations_and_property_filters_are_applied_and_reported(
    owner_client, source, hook, sink
):
    transformations.create_transformation(
        source, None, {"name": "Rename", "target": "track", "renames": {"revenue": "amount"}}
    )
    filters.create_filter(hook, None, title="No coupons", condition="all",
                          actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["coupon"]}}])  # fmt: skip
    page = send(owner_client, hook, TRACK)
    assert "removed properties.revenue, added properties.amount" in page
    assert "The instance's filters changed the event: removed properties.coupon." in page
    assert orjson.loads(sink.received[0].body)["properties"] == {"amount": 25}


def test_an_unsupported_type_is_reported_and_a_secret_url_is_masked(owner_client, source, sink):
    slack = make_instance(
        source, "slack", name="Slack", settings={"webhookUrl": f"{sink.url}/slack-secret-path"}
    )
    alias = {"type": "alias", "previousId": "anon-1", "userId": "user-7"}
    page = send(owner_client, slack, alias)
    assert "alias calls are not supported by Slack" in page
    assert not sink.received
    page = send(owner_client, slack, TRACK)
    assert len(sink.received) == 1 and "slack-secret-path" not in page
    assert "POST ••••••••" in page


@pytest.mark.parametrize(
    "event, error",
    [
        ('{"type": "track", ', "The event is not valid JSON"),
        ("[1, 2]", "A message must be a JSON object."),
        ({"type": "track", "event": "E"}, "A message needs a userId or an anonymousId."),
        ({"type": "track", "userId": "u"}, "A track call needs an event name."),
        ({"type": "purchase", "userId": "u"}, "Unknown type &#x27;purchase&#x27;"),
    ],
)
def test_an_invalid_event_gets_the_tracking_apis_reason(owner_client, hook, sink, event, error):
    page = send(owner_client, hook, event, **HTMX)
    assert 'role="alert"' in page and error in page
    assert "<html" not in page  # the fragment alone
    assert not sink.received


# 300 levels: orjson reads it but cannot write it back, as the request to the sink would need.
@pytest.mark.parametrize("levels", [MAX_DEPTH, 300])
def test_an_event_nested_too_deep_is_refused_and_not_sent(owner_client, hook, sink, levels):
    event = with_nesting({**TRACK, "properties": NESTED}, levels).decode()
    page = send(owner_client, hook, event, **HTMX)
    assert 'role="alert"' in page and f"nests deeper than {MAX_DEPTH} levels" in page
    assert not sink.received
    assert_nothing_stored()


def test_the_egress_policy_refusal_is_shown(owner_client, hook, sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = False
    page = send(owner_client, hook, TRACK)
    assert not sink.received
    assert "refused by egress policy" in page and "127.0.0.1" in page
    assert '<span class="badge">Discarded</span>' in page and "No answer" in page
    assert_nothing_stored()


def test_a_device_mode_instance_is_refused_with_the_reason(owner_client, source, sink):
    amplitude = make_instance(source, "amplitude", name="Amp", settings={"endpoint": sink.url})
    set_mode(amplitude, "device", None)
    page = owner_client.get(page_url(amplitude)).content.decode()
    assert "is in device mode" in page and "Send test event" not in page
    assert "is in device mode" in send(owner_client, amplitude, TRACK)
    assert not sink.received


def test_one_url_serves_the_page_the_sample_and_the_result(owner_client, hook, sink):
    instance_page = owner_client.get(
        reverse("connections:instance-detail", args=[hook.workspace.slug, hook.pk])
    )
    assert f'href="{page_url(hook)}"' in instance_page.content.decode()
    page = owner_client.get(page_url(hook))
    assert "HX-Request" in page["Vary"]
    sample = orjson.loads(html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>",
                                                  page.content.decode(), re.S)[1]))  # fmt: skip
    assert sample["type"] == "track" and sample["context"]["library"]["name"] == "analytics.js"
    fragment = owner_client.get(
        page_url(hook) + "?type=group", headers={"HX-Request": "true", "HX-Target": "event-input"}
    ).content.decode()
    assert fragment.startswith('<div id="event-input">') and "groupId" in fragment
    no_js = send(owner_client, hook, TRACK)
    assert "<html" in no_js and "Send test event" in no_js and "HTTP 200" in no_js
    with_js = send(owner_client, hook, TRACK, **HTMX)
    assert "<html" not in with_js and "HTTP 200" in with_js


@pytest.mark.parametrize("kind", ["identify", "track", "page", "screen", "group", "alias"])
def test_every_sample_passes_the_tracking_apis_rules(owner_client, hook, sink, kind):
    page = owner_client.get(page_url(hook) + f"?type={kind}").content.decode()
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)[1])
    assert orjson.loads(text)["type"] == kind
    assert "Delivered" in send(owner_client, hook, text)
    assert orjson.loads(sink.received[-1].body)["type"] == kind


def test_read_only_may_look_but_not_send_and_outsiders_see_nothing(
    client_as, read_only_user, hook, sink
):
    reader = client_as(read_only_user)
    page = reader.get(page_url(hook))
    assert page.status_code == 200 and "cannot send test events" in page.content.decode()
    assert reader.post(page_url(hook), {"event": orjson.dumps(TRACK).decode()}).status_code == 403
    elsewhere = make_workspace(name="Elsewhere")
    outsider = elsewhere.memberships.get().user
    url = reverse("delivery:event-tester", args=[elsewhere.slug, hook.pk])
    assert client_as(outsider).get(url).status_code == 404
    assert not sink.received
