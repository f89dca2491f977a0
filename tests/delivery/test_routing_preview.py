"""The routing preview: for every instance of a source, would a pasted event be sent there, and
why not, from routing's own rules; the exact requests for the others; nothing sent or stored."""

import html
import re

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from connections import filters, transformations
from connections.instances import set_enabled, set_mode
from connections.models import DestinationInstance
from delivery.adapters import adapter_for
from delivery.models import (
    DeliveryCounter,
    DeliveryJob,
    Event,
    IngestBatch,
    RejectedMessage,
    SeenMessage,
)
from segapp.jsondepth import MAX_DEPTH
from tests.delivery.conftest import NESTED, with_nesting
from tests.factories import make_instance, make_source

PAGE = {
    "type": "page",
    "name": "Pricing",
    "userId": "user-7",
    "messageId": "preview-1",
    "properties": {"title": "Pricing", "plan": "pro", "email": "p@example.com"},
}
NO_CLOUD_ADAPTER = "amazon-personalize"


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def owner_client(client_as, owner):
    return client_as(owner)


def preview_url(source) -> str:
    return reverse("delivery:routing-preview", args=[source.workspace.slug, source.pk])


def enabled(source, slug, name, **settings):
    return set_enabled(make_instance(source, slug, name=name, settings=settings), True, None)


def preview(client, source, event, **headers) -> str:
    text = event if isinstance(event, str) else orjson.dumps(event).decode()
    response = client.post(preview_url(source), {"event": text}, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def rows(page: str) -> dict[str, str]:
    """Instance id → its row's HTML."""
    return dict(re.findall(r'<tr data-instance="([^"]+)">(.*?)</tr>', page, re.S))


def verdict(row: str) -> str:
    return re.search(r'<span class="(?:ok|danger)">(Yes|No)</span>', row)[1]


def parts(row: str, name: str) -> list[str]:
    return [html.unescape(p) for p in re.findall(rf'data-part="{name}">(.*?)</pre>', row, re.S)]


def test_every_instance_is_explained_with_routings_own_reasons(owner_client, source, sink):
    hook = {"webhookUrls": [f"{sink.url}/a", f"{sink.url}/b"], "sharedSecret": "sign-it-secret"}
    sent = enabled(source, "webhooks", "Sent", **hook)
    off = make_instance(source, "webhooks", name="Off", settings=hook)
    device = enabled(source, "amplitude", "Amp in browser")
    device = set_mode(device, "device", None)
    muted = enabled(source, "webhooks", "Muted", **hook)
    dropped = enabled(source, "webhooks", "Dropped", **hook)
    slack = enabled(source, "slack", "Slack", webhookUrl=f"{sink.url}/slack")
    assert adapter_for(NO_CLOUD_ADAPTER) is None
    # Enabled before Segapp refused to enable what it cannot send to: routing still explains it.
    unsendable = make_instance(source, NO_CLOUD_ADAPTER, name="Personalize")
    DestinationInstance.objects.filter(pk=unsendable.pk).update(enabled=True)
    drop = filters.create_filter(dropped, None, title="No pricing", condition='name = "Pricing"',
                                 actions=[{"type": "DROP"}])  # fmt: skip
    filters.create_filter(sent, None, title="No emails", condition="all",
                          actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}])  # fmt: skip
    transformations.create_transformation(
        source, None, {"name": "Plans", "target": "page", "renames": {"plan": "tier"}}
    )
    event = {**PAGE, "integrations": {muted.pk: False}}

    page = preview(owner_client, source, event)
    found = rows(page)
    assert set(found) == {i.pk for i in (sent, off, device, muted, dropped, slack, unsendable)}
    assert {pk: verdict(row) for pk, row in found.items()} == {
        sent.pk: "Yes", off.pk: "No", device.pk: "No", muted.pk: "No",
        dropped.pk: "No", slack.pk: "No", unsendable.pk: "No"}  # fmt: skip
    assert "disabled" in found[off.pk]
    assert "device mode: analytics.js" in found[device.pk]
    assert f"integrations object: &quot;{muted.pk}&quot;: false" in found[muted.pk]
    assert f"filter {drop.pk}: dropped" in found[dropped.pk] and "No pricing" in found[dropped.pk]
    assert "page calls are not supported by Slack" in found[slack.pk]
    assert "cannot send to Amazon Personalize in cloud mode" in found[unsendable.pk]
    assert "removed properties.plan, added properties.tier" in page

    row = found[sent.pk]
    (received,) = parts(row, "received")
    message = orjson.loads(received)
    assert message["properties"] == {"title": "Pricing", "tier": "pro"}  # transformed, filtered
    assert message["messageId"] == "preview-1" and "receivedAt" in message
    adapter = adapter_for("webhooks")(sent.all_settings(), names=("Webhooks",), instance_id=sent.pk)
    built, _ = adapter.build([message])
    assert parts(row, "request-body") == [r.body.decode() for r in built]
    assert [f"POST {r.url}" for r in built] == [f"POST {sink.url}/a", f"POST {sink.url}/b"]
    assert all(f"<code>POST {r.url}</code>" in row for r in built)
    assert "<dt>X-Signature</dt><dd>••••••••</dd>" in row and "sign-it-secret" not in page

    assert not sink.received
    for model in (Event, IngestBatch, DeliveryJob, DeliveryCounter, SeenMessage, RejectedMessage):
        assert not model.objects.exists(), model.__name__


def test_an_invalid_event_is_refused_with_the_tracking_apis_reason_and_not_recorded(
    owner_client, source
):
    page = preview(owner_client, source, {"type": "track", "userId": "u"},
                   **{"HX-Request": "true", "HX-Target": "routing-result"})  # fmt: skip
    assert "A track call needs an event name." in page and "<html" not in page
    assert "is not valid JSON" in preview(owner_client, source, "{nope")
    assert not RejectedMessage.objects.exists()


def test_an_event_nested_too_deep_is_refused(owner_client, source, sink):
    enabled(source, "webhooks", "Hook", webhookUrls=[f"{sink.url}/a"])
    event = with_nesting({**PAGE, "properties": NESTED}, 300).decode()
    page = preview(owner_client, source, event, **{"HX-Request": "true"})
    assert f"nests deeper than {MAX_DEPTH} levels" in page and "<html" not in page
    assert not sink.received and not RejectedMessage.objects.exists()


def test_one_url_serves_the_form_and_the_results(owner_client, source, sink):
    hook = enabled(source, "webhooks", "Hook", webhookUrls=[f"{sink.url}/a"])
    source_page = owner_client.get(
        reverse("connections:source-detail", args=[source.workspace.slug, source.pk])
    )
    assert f'href="{preview_url(source)}"' in source_page.content.decode()
    form = owner_client.get(preview_url(source)).content.decode()
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", form, re.S)[1])
    assert orjson.loads(text)["type"] == "track"
    no_js = preview(owner_client, source, text)
    assert "<html" in no_js and verdict(rows(no_js)[hook.pk]) == "Yes"
    with_js = preview(owner_client, source, text, **{"HX-Request": "true"})
    assert "<html" not in with_js and verdict(rows(with_js)[hook.pk]) == "Yes"
    assert not sink.received


def test_queries_do_not_grow_with_the_instances(owner_client, source, sink):
    def count() -> int:
        preview(owner_client, source, PAGE)  # builds and caches the source's plan
        with CaptureQueriesContext(connection) as queries:
            assert len(rows(preview(owner_client, source, PAGE))) == len(made)
        return len(queries)

    made = [enabled(source, "webhooks", "Hook 0", webhookUrls=[f"{sink.url}/0"])]
    one = count()
    for n in range(1, 20):
        made.append(enabled(source, "webhooks", f"Hook {n}", webhookUrls=[f"{sink.url}/{n}"]))
        action = {"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}
        filters.create_filter(made[-1], None, title=f"F{n}", condition="all",
                              actions=[{"type": "DROP"} if n % 2 else action])  # fmt: skip
    assert count() == one


def test_read_only_may_open_the_page_but_not_run_it(client_as, read_only_user, source):
    reader = client_as(read_only_user)
    page = reader.get(preview_url(source))
    assert page.status_code == 200 and "cannot run the preview" in page.content.decode()
    assert (
        reader.post(preview_url(source), {"event": orjson.dumps(PAGE).decode()}).status_code == 403
    )
