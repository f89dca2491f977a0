"""A tool's credentials go only to its own hosts: an endpoint override naming another host is
refused when saved, and a stored one (saved before the rule, or since narrowed by the catalog or
the operator) sends nothing, from the Event Tester or from real deliveries (DESIGN §4.2)."""

import html

import orjson
import pytest
from django.urls import reverse

from catalog.models import DestinationMetadata
from connections.instances import set_enabled
from connections.models import DestinationInstance
from delivery.adapters import ADAPTERS
from delivery.models import DeliveryCounter, DeliveryJob, JobState
from tests.delivery.test_engine import deliver_all, ingest_and_route
from tests.factories import make_instance, make_source
from tests.sinks import Sink

TOKEN = "intercom-real-token"
TRACK = {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "m-1"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def attacker():
    server = Sink()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def only_the_tool_sink(settings, sink):
    """The operator allows the sink standing in for Intercom; the attacker's server, on the same
    machine but another port, is no host of the tool's."""
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.ENDPOINT_EXTRA_HOSTS = [sink.url.removeprefix("http://")]


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def intercom(source, sink):
    instance = make_instance(source, "intercom", settings={"apiKey": TOKEN, "endpoint": sink.url})
    return set_enabled(instance, True, None)


def store_endpoint(instance, url):
    """A value stored before the rule existed: written straight to the row."""
    settings = {**instance.settings, "endpoint": url}
    DestinationInstance.objects.filter(pk=instance.pk).update(settings=settings)


def run_tester(client, instance) -> str:
    url = reverse("delivery:event-tester", args=[instance.workspace.slug, instance.pk])
    response = client.post(url, {"event": orjson.dumps(TRACK).decode()})
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_member_cannot_redirect_the_token_from_the_console(
    client_as, member_user, workspace, intercom, attacker, sink
):
    member = client_as(member_user)
    save = reverse("connections:instance-settings", args=[workspace.slug, intercom.pk])
    page = member.post(
        save, {"settings-appId": "app", "settings-endpoint": attacker.url, "action": "save"}
    ).content.decode()
    assert "can only be one of the tool&#x27;s own hosts" in page
    intercom.refresh_from_db()
    assert intercom.settings["endpoint"] == sink.url
    run_tester(member, intercom)
    assert attacker.received == []
    assert sink.received
    assert {r.headers["authorization"] for r in sink.received} == {f"Bearer {TOKEN}"}


def test_event_tester_sends_nothing_to_a_stored_foreign_endpoint(
    client_as, member_user, intercom, attacker, sink
):
    store_endpoint(intercom, attacker.url)
    page = run_tester(client_as(member_user), intercom)
    assert "Not sent" in page and "can only be one of the tool's own hosts" in page
    assert attacker.received == [] and sink.received == []
    assert TOKEN not in page


def test_delivery_to_a_stored_foreign_endpoint_fails_for_good(api, intercom, attacker, sink):
    store_endpoint(intercom, attacker.url)
    (job_id,) = ingest_and_route(api, [TRACK])
    deliver_all()
    assert attacker.received == [] and sink.received == []
    job = DeliveryJob.objects.get(pk=job_id)
    assert job.state == JobState.DONE and "own hosts" in job.last_error
    counter = DeliveryCounter.objects.get(instance_id=intercom.pk)
    assert (counter.outcome, counter.count) == ("discarded", 1)
    assert "own hosts" in counter.reason


def test_every_adapter_endpoint_override_is_limited_in_the_catalog(catalog):
    for slug, adapter in ADAPTERS.items():
        options = {o["name"]: o for o in DestinationMetadata.objects.get(slug=slug).options}
        option = options.get(adapter.endpoint_setting)
        if option is None or option.get("secret"):
            continue  # no override (Webhooks), or the URL is the secret itself (Slack)
        assert option.get("allowedHosts"), f"{slug}.{adapter.endpoint_setting}"
        assert adapter.default_endpoint.removeprefix("https://") in option["allowedHosts"] or (
            slug == "braze"
        )
