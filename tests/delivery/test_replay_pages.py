"""The Replay page of a destination instance, through the test client on real PostgreSQL: the
form, Preview's count and the refusals beside their fields, the plan and destination refusals,
read-only members, starting, progress polling, cancelling, and the panel on Event Delivery."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.instances import set_enabled, set_mode
from delivery import replays, retention
from delivery.models import Replay, ReplayStatus
from segapp.models import AuditEntry, Plan
from tests.delivery.replay_archive import archive_days, send_in_line
from tests.factories import make_instance, make_source, make_user, make_workspace

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PLAN_REFUSAL = "Replay is part of the Business plan"


@pytest.fixture(autouse=True)
def private_egress(settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_RETRY_BASE_DELAY = 0


@pytest.fixture
def source(business_website):
    return business_website


@pytest.fixture
def days(source):
    """Three days of 30 archived events each (24 track, 3 identify, 3 page), before the
    instance exists: live routing gave it none of them."""
    return archive_days(source, per_day=30, days=3, until=timezone.now())


@pytest.fixture
def instance(days, source, sink):
    hook = make_instance(source, "webhooks", name="Orders hook",
                         settings={"webhookUrls": [f"{sink.url}/orders"]})  # fmt: skip
    return set_enabled(hook, True, None)


def page_url(instance) -> str:
    return reverse("delivery:replay", args=[instance.workspace.slug, instance.pk])


def cancel_url(instance) -> str:
    return reverse("delivery:replay-cancel", args=[instance.workspace.slug, instance.pk])


def minute(moment) -> str:
    return f"{moment:%Y-%m-%dT%H:%M}"


def choices(day, action="preview", **extra) -> dict:
    return {"action": action, "start": minute(day.start), "end": minute(day.end),
            "rate": "100", "mark_context": "on", **extra}  # fmt: skip


def field_error(html: str, label: str) -> str:
    """The error shown inside the form field labelled ``label``, or ""."""
    for block in re.findall(r"<label[^>]*>(.*?)</label>", html, re.S):
        if f'<span class="label-text">{label}</span>' in block:
            found = re.search(r'class="field-error">([^<]*)<', block)
            return found.group(1) if found else ""
    for block in re.findall(r"<fieldset[^>]*>(.*?)</fieldset>", html, re.S):
        if f"<legend>{label}</legend>" in block:
            found = re.search(r'class="field-error">([^<]*)<', block)
            return found.group(1) if found else ""
    raise AssertionError(f"no field labelled {label}")


def start(instance, day, actor=None, **extra) -> Replay:
    return replays.start_replay(instance, actor, start=day.start, end=day.end, **extra)


def test_the_page_offers_the_form_with_the_archive_range_in_utc(
    instance, owner, client_as, settings
):
    settings.REPLAY_RATE = 321
    html = client_as(owner).get(page_url(instance)).content.decode()
    kept_from = retention.kept_from(instance.workspace, timezone.now())
    kept = re.search(r'keeps events received from <time datetime="([^"]+)">([^<]+)</time>', html)
    shown_from = datetime.fromisoformat(kept[1])
    assert timedelta(0) <= kept_from - shown_from < timedelta(seconds=5)
    assert kept[2] == f"{shown_from:%Y-%m-%d %H:%M} UTC"
    oldest = minute(shown_from.replace(second=0, microsecond=0) + timedelta(minutes=1))
    assert re.search(rf'type="datetime-local" name="start" value="[^"]+" min="{oldest}"', html)
    assert re.search(rf'type="datetime-local" name="end" value="[^"]+" min="{oldest}"', html)
    assert "Start (UTC)" in html and "End (UTC)" in html
    assert re.findall(r'type="checkbox" name="types" value="(\w+)"', html) == [
        "track", "identify", "page", "screen", "group", "alias"
    ]  # fmt: skip
    assert 'name="rate" value="321"' in html
    assert re.search(r'type="checkbox" name="mark_context"[^>]* checked', html)
    assert ">Preview</button>" in html and ">Start replay</button>" in html
    assert "No replays yet." in html


def test_the_instance_page_links_to_replay(instance, owner, client_as):
    url = reverse("connections:instance-detail", args=[instance.workspace.slug, instance.pk])
    assert f'href="{page_url(instance)}"' in client_as(owner).get(url).content.decode()


def test_preview_counts_the_archived_events_of_the_choices(days, instance, owner, client_as):
    client = client_as(owner)

    def count(**extra) -> str:
        response = client.post(page_url(instance), choices(days[1], **extra), **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html  # the form's section alone
        return re.search(r'id="replay-count">(\d+)<', html).group(1)

    assert count() == "30"
    html = client.post(page_url(instance), choices(days[1], types=["track"]), **HTMX)
    assert (
        f"received from {days[1].start:%Y-%m-%d %H:%M} to {days[1].end:%Y-%m-%d %H:%M} UTC, "
        "of type track and every name."
    ) in html.content.decode()
    assert count(types=["track"]) == "24"
    assert count(types=["identify", "page"]) == "6"
    # Track event n is named "Event {n % 5}": "Event 1" and "Event 2" are 12 of the day's 24.
    assert count(event_names="Event 1,\nEvent 2") == "12"
    assert not Replay.objects.exists()


def test_preview_shows_each_refusal_beside_the_field_it_names(days, instance, owner, client_as):
    client = client_as(owner)
    now = timezone.now()

    def refused(label: str, **extra) -> str:
        html = client.post(page_url(instance), choices(days[1], **extra), **HTMX).content.decode()
        assert 'id="replay-count"' not in html
        return field_error(html, label)

    assert refused("End (UTC)", end=minute(days[1].start - timedelta(hours=1))) == (
        "The end must come after the start."
    )
    assert refused("Start (UTC)", start=minute(now - timedelta(days=45))).startswith(
        "The archive keeps events from "
    )
    assert refused("Rate (events per second)", rate="0") == (
        "Choose a rate between 1 and 5000 events per second."
    )
    assert refused("Event types", types=["track", "pageview"]).startswith("Select a valid choice.")
    assert refused("Start (UTC)", start="yesterday") == "Enter a valid date/time."
    assert field_error(client.post(page_url(instance), choices(days[1])).content.decode(),
                       "Start (UTC)") == ""  # fmt: skip


@pytest.mark.parametrize("plan", [Plan.FREE, Plan.TEAM])
def test_free_and_team_workspaces_see_why_replay_is_not_available(
    days, instance, owner, client_as, plan
):
    instance.workspace.plan = plan
    instance.workspace.save(update_fields=["plan"])
    client = client_as(owner)
    html = client.get(page_url(instance)).content.decode()
    assert PLAN_REFUSAL in html
    assert 'name="start"' not in html and "Start replay" not in html
    response = client.post(page_url(instance), choices(days[1], action="start"))
    assert response.status_code == 200
    assert PLAN_REFUSAL in response.content.decode()
    assert not Replay.objects.exists()


def test_a_disabled_destination_is_not_offered_the_form(instance, owner, client_as):
    set_enabled(instance, False, None)
    html = client_as(owner).get(page_url(instance)).content.decode()
    assert "send this destination nothing (instance disabled)" in html
    assert "enable it in cloud mode first" in html and 'name="start"' not in html


def test_a_device_mode_destination_is_not_offered_the_form(source, owner, client_as):
    heap = make_instance(source, "heap", name="Heap")
    heap = set_enabled(set_mode(heap, "device", None), True, None)
    html = client_as(owner).get(page_url(heap)).content.decode()
    assert "send this destination nothing (device mode:" in html and 'name="start"' not in html


def test_start_creates_a_replay_audits_it_and_lists_it(days, instance, owner, client_as):
    client = client_as(owner)
    data = choices(days[0], action="start", types=["track"], rate="7")
    del data["mark_context"]  # unchecked
    response = client.post(page_url(instance), data)
    assert response.status_code == 302 and response["Location"] == page_url(instance)

    replay = Replay.objects.get()
    assert (replay.instance_id, replay.start_time, replay.end_time) == (
        instance.pk, days[0].start, days[0].end
    )  # fmt: skip
    assert (replay.types, replay.rate, replay.mark_context, replay.total) == (
        ["track"], 7, False, 24
    )  # fmt: skip
    assert replay.requested_by == owner.email
    entry = AuditEntry.objects.get(action="instance.replay_started")
    assert (entry.actor_user, entry.object_id, entry.after["replay"]) == (
        owner, instance.pk, replay.pk
    )  # fmt: skip

    html = client.get(page_url(instance)).content.decode()
    assert "Replay started: 24 archived events." in html
    row = re.search(rf'<li class="replay" id="replay-{replay.pk}"[^>]*>', html).group(0)
    assert 'hx-trigger="every 1s"' in row
    assert "0 of 24 events done" in html and "Pending…" in html
    # One replay at a time: until it ends, the form gives way to the reason.
    assert "already running" in html and 'name="start"' not in html
    assert ">Cancel replay</button>" in html


def test_a_refused_start_shows_the_rule_and_starts_nothing(days, instance, owner, client_as):
    response = client_as(owner).post(page_url(instance), choices(days[0], action="start", rate="0"))
    assert response.status_code == 200
    assert field_error(response.content.decode(), "Rate (events per second)").startswith(
        "Choose a rate between 1 and"
    )
    assert not Replay.objects.exists()
    assert not AuditEntry.objects.filter(action="instance.replay_started").exists()


def test_a_read_only_member_sees_the_page_without_buttons(
    days, instance, owner, read_only_user, client_as
):
    finished = start(instance, days[0])
    replays.cancel_replay(finished, None)
    running = start(instance, days[1], actor=owner)
    client = client_as(read_only_user)
    html = client.get(page_url(instance)).content.decode()
    assert f'id="replay-{running.pk}"' in html and f'id="replay-{finished.pk}"' in html
    assert "Cancel replay" not in html
    assert ">Preview</button>" not in html and ">Start replay</button>" not in html
    row = client.get(page_url(instance), {"replay": running.pk}, **HTMX)
    assert "Cancel replay" not in row.content.decode()
    assert client.post(cancel_url(instance), {"replay": running.pk}).status_code == 403
    assert client.post(page_url(instance), choices(days[2], action="start")).status_code == 403
    running.refresh_from_db()
    assert running.status == ReplayStatus.PENDING


def test_a_read_only_member_is_told_why_the_form_has_no_buttons(
    days, instance, read_only_user, client_as
):
    html = client_as(read_only_user).get(page_url(instance)).content.decode()
    assert "Your role (read-only) cannot start or cancel replays." in html


def test_progress_polls_while_unfinished_and_stops_once_ended(days, instance, owner, client_as):
    replay = start(instance, days[0])
    client = client_as(owner)
    response = client.get(page_url(instance), {"replay": replay.pk}, **HTMX)
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert "0%" in response.content.decode()

    replays.cancel_replay(replay, None)
    response = client.get(page_url(instance), {"replay": replay.pk}, **HTMX)
    assert response.status_code == 286  # htmx stops polling
    assert response["HX-Trigger"] == '{"replayEnded": {}}'
    html = response.content.decode()
    assert "hx-trigger" not in html and "Cancelled" in html and "Cancel replay" not in html


def test_the_form_comes_back_when_the_replay_ends(days, instance, owner, client_as):
    replay = start(instance, days[0])
    client = client_as(owner)
    html = client.get(page_url(instance)).content.decode()
    assert 'hx-trigger="replayEnded from:body"' in html
    replays.cancel_replay(replay, None)
    fragment = client.get(page_url(instance), HTTP_HX_TARGET="replay-start", **HTMX)
    assert 'name="start"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_cancel_ends_the_replay_and_audits_it(days, instance, owner, client_as):
    replay = start(instance, days[0])
    client = client_as(owner)
    response = client.post(cancel_url(instance), {"replay": replay.pk}, **HTMX)
    assert response.status_code == 286
    assert "Cancelled" in response.content.decode()
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.CANCELLED
    entry = AuditEntry.objects.get(action="instance.replay_cancelled")
    assert (entry.actor_user, entry.after["replay"]) == (owner, replay.pk)

    again = client.post(cancel_url(instance), {"replay": replay.pk}, **HTMX)
    assert "This replay has already ended." in again.content.decode()
    assert AuditEntry.objects.filter(action="instance.replay_cancelled").count() == 1
    # Without JavaScript: back to the page, which says so.
    plain = client.post(cancel_url(instance), {"replay": replay.pk}, follow=True)
    assert "This replay has already ended." in plain.content.decode()


def test_another_workspaces_replay_looks_absent(days, instance, catalog, client_as, sink):
    other_owner = make_user()
    other = make_workspace(other_owner, "Other", plan=Plan.BUSINESS)
    other_source = make_source(other, "javascript")
    other_hook = set_enabled(make_instance(other_source, "webhooks",
                                           settings={"webhookUrls": [f"{sink.url}/x"]}), True, None)  # fmt: skip
    replay = start(instance, days[0])
    client = client_as(other_owner)
    assert client.get(page_url(other_hook), {"replay": replay.pk}, **HTMX).status_code == 404
    assert client.post(cancel_url(other_hook), {"replay": replay.pk}).status_code == 404
    assert client.get(page_url(instance)).status_code == 404
    replay.refresh_from_db()
    assert replay.status == ReplayStatus.PENDING


def test_the_list_takes_the_same_queries_for_1_and_20_replays(
    days, instance, owner, client_as, django_assert_num_queries
):
    client = client_as(owner)
    client.get(page_url(instance))  # the session's first request also saves the session
    for shown in (1, 20):
        while Replay.objects.count() < shown:
            replays.cancel_replay(start(instance, days[0]), None)
        # 1 session, 2 user, 3 membership, 4 instance with its source and catalog entry,
        # 5 its workspace, 6 a replay still running?, 7 the replays, 8 the workspace switcher.
        with django_assert_num_queries(8):
            html = client.get(page_url(instance)).content.decode()
        assert html.count('<li class="replay"') == shown


@pytest.mark.django_db(transaction=True)
def test_event_delivery_shows_replays_apart_from_live_counts(days, instance, owner, client_as):
    replay = start(instance, days[2])
    now = replay.created_at
    while not replay.is_finished:
        now += timedelta(seconds=1)
        send_in_line(replays.advance(replay.pk, now))
        replay.refresh_from_db()
    assert (replay.status, replay.sent) == (ReplayStatus.FINISHED, 30)

    url = reverse("delivery:event-delivery", args=[instance.workspace.slug, instance.pk])
    html = client_as(owner).get(url, {"window": "14d"}).content.decode()
    panel = re.search(r'<section class="card" id="replays-panel">(.*?)</section>', html, re.S)[1]
    assert f'href="{page_url(instance)}"' in panel
    assert re.search(r'data-label="Sent" class="num">30<', panel)
    assert re.search(r'data-label="Failed" class="num">0<', panel)
    assert "Finished" in panel and "100%" in panel
    assert re.search(r'id="count-delivered">0<', html)  # the live counters never include them
