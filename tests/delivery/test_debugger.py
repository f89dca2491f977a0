"""The source debugger: the latest events live or paused, search, one event pretty or raw, the
rejected messages with their reasons, in a constant number of queries."""

import base64
import html
import re

import orjson
import pytest
from django.urls import reverse

from connections.sources import update_source
from delivery.models import Event, RejectedMessage
from tests.delivery.conftest import track
from tests.factories import make_source, make_workspace

ROWS = {"HX-Request": "true", "HX-Target": "debugger-rows"}
DETAIL = {"HX-Request": "true", "HX-Target": "event-detail"}


@pytest.fixture
def send(client, write_key):
    """Posts a batch through the tracking API (in process, so inside the test's transaction)."""
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()

    def send(messages):
        body = orjson.dumps({"batch": messages})
        response = client.post(
            "/v1/batch", body, content_type="application/json", headers={"Authorization": auth}
        )
        assert response.status_code == 200
        return response.json()

    return send


@pytest.fixture
def owner_client(client_as, owner):
    return client_as(owner)


@pytest.fixture
def url(workspace, source):
    return reverse("delivery:debugger", args=[workspace.slug, source.pk])


def event_names(response) -> list[str]:
    return re.findall(r'hx-target="#event-detail"[^>]*>([^<]+)</a>', response.content.decode())


def test_page_lists_latest_events_and_rejections_and_polls_while_live(owner_client, url, send):
    send([track(1), {"type": "track", "userId": "u"}, track(2)])
    response = owner_client.get(url)
    body = response.content.decode()
    assert event_names(response) == ["Event 2", "Event 1"]  # newest first
    assert "A track call needs an event name." in body and "missing_event" in body
    assert 'hx-trigger="every 2s"' in body and "Live" in body
    assert '<meta http-equiv="refresh" content="5">' in body  # live without JS
    assert "HX-Request" in response["Vary"]


def test_paused_page_does_not_poll(owner_client, url, send):
    send([track(1)])
    body = owner_client.get(url, {"paused": "1"}).content.decode()
    assert 'hx-trigger="every' not in body and "http-equiv" not in body
    assert "Resume live" in body and "Paused" in body
    assert event_names(owner_client.get(url, {"paused": "1"})) == ["Event 1"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("identify", ["Identify"]),
        ("order", ["Order Completed"]),
        ("user-7", ["Order Completed"]),
        ("msg-abc", ["Pricing"]),
        ("nothing-like-it", []),
    ],
)
def test_search_by_type_event_name_user_id_and_message_id(owner_client, url, send, q, expected):
    send(
        [
            {"type": "identify", "userId": "user-1"},
            {"type": "track", "event": "Order Completed", "userId": "user-7"},
            {"type": "page", "name": "Pricing", "anonymousId": "a", "messageId": "msg-abc-1"},
        ]
    )
    response = owner_client.get(url, {"q": q})
    assert event_names(response) == expected
    if expected:
        assert f"matching “{q}”" in response.content.decode()


def test_search_also_filters_rejections(owner_client, url, send):
    send([{"type": "track", "userId": "u"}, {"type": "nope", "userId": "u"}])
    body = owner_client.get(url, {"q": "unknown_type"}).content.decode()
    assert "Unknown type" in body and "A track call needs" not in body


def test_one_event_in_pretty_and_raw_views(owner_client, url, send):
    send([track(1, properties={"plan": "pro <b>"}, context={"locale": "fr-FR"})])
    event = Event.objects.get()

    pretty = owner_client.get(url, {"event": event.pk}).content.decode()
    assert 'data-view="pretty"' in pretty
    assert (
        "<dt>properties</dt>" in pretty and "&quot;plan&quot;: &quot;pro &lt;b&gt;&quot;" in pretty
    )
    assert "<dt>receivedAt</dt>" in pretty

    raw = owner_client.get(url, {"event": event.pk, "view": "raw"}).content.decode()
    shown = re.search(r'<pre class="raw-json" data-view="raw">(.*?)</pre>', raw, re.S).group(1)
    assert html.unescape(shown) == event.payload


def test_htmx_asks_for_the_event_panel_alone(owner_client, url, send):
    send([track(1)])
    event = Event.objects.get()
    response = owner_client.get(url, {"event": event.pk, "view": "raw"}, headers=DETAIL)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="event-detail"') and "<html" not in body
    assert 'data-view="raw"' in body


def test_an_event_of_another_source_is_not_shown(owner_client, url, workspace, send):
    other = make_source(workspace, "python", name="Other")
    send([track(1)])
    Event.objects.update(source=other)
    body = owner_client.get(url, {"event": Event.objects.get().pk}).content.decode()
    assert "not among this source" in body and "Event 1" not in body


def test_poll_answers_204_until_something_new_arrives(owner_client, url, send):
    send([track(1)])
    page = owner_client.get(url).content.decode()
    poll = html.unescape(re.search(r'hx-get="([^"]*since=[^"]*)"', page).group(1))

    assert owner_client.get(url + poll, headers=ROWS).status_code == 204

    send([{"type": "track", "userId": "u"}])  # a rejection is news too
    rows = owner_client.get(url + poll, headers=ROWS)
    assert rows.status_code == 200
    body = rows.content.decode()
    assert body.lstrip().startswith('<div id="debugger-rows"') and "<html" not in body
    assert "A track call needs an event name." in body and 'hx-trigger="every 2s"' in body


def test_polling_stops_with_286_once_the_source_is_disabled(owner_client, url, source, send):
    send([track(1)])
    update_source(source, actor=None, enabled=False)
    rows = owner_client.get(url, {"since": "0-0"}, headers=ROWS)
    assert rows.status_code == 286 and "hx-trigger" not in rows.content.decode()
    page = owner_client.get(url).content.decode()
    assert "Source disabled" in page and 'hx-trigger="every' not in page


def test_the_stream_holds_the_latest_500_events(owner_client, url, send):
    send([track(n) for n in range(510)])
    names = event_names(owner_client.get(url))
    assert len(names) == 500 and names[0] == "Event 509" and names[-1] == "Event 10"


def test_read_only_members_see_it_and_other_workspaces_sources_are_404(
    client_as, read_only_user, workspace, url
):
    viewer = client_as(read_only_user)
    assert viewer.get(url).status_code == 200
    elsewhere = make_workspace(name="Elsewhere")
    theirs = make_source(elsewhere, "python")
    for slug in (elsewhere.slug, workspace.slug):
        other_url = reverse("delivery:debugger", args=[slug, theirs.pk])
        assert viewer.get(other_url).status_code == 404


def test_a_constant_number_of_queries_whatever_the_number_of_events(
    owner_client, url, send, django_assert_num_queries
):
    owner_client.get(url)  # the first visit stores the workspace in the session
    for batch_size in (1, 19):  # 1 event, then 20
        send([track(n) for n in range(batch_size)] + [{"type": "track", "userId": "u"}])
        newest_event = Event.objects.order_by("-id").first().pk
        marker = f"{newest_event}-{RejectedMessage.objects.order_by('-id').first().pk}"
        # session, user, membership, source with its newest ids, events, rejections,
        # the selected event, the workspace switcher, and the two audit entries of the reads
        with django_assert_num_queries(10):
            owner_client.get(url, {"event": newest_event})
        # session, user, membership, source with its newest ids, events, rejections
        with django_assert_num_queries(6):
            assert owner_client.get(url, {"since": "0-0"}, headers=ROWS).status_code == 200
        # session, user, membership, source with its newest ids: nothing new
        with django_assert_num_queries(4):
            assert owner_client.get(url, {"since": marker}, headers=ROWS).status_code == 204
