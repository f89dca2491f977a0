"""The one outbound transport against the ways a URL, a DNS answer or a redirect could carry a
request (or a credential) somewhere unchecked. Every listener is on 127.0.0.1; addresses said to
be public come only from the test resolver, and connections to them are refused before any
packet leaves (``connect_guard``)."""

import socket

import pytest
import urllib3.util.connection
from django.urls import reverse

from connections.instances import set_enabled
from connections.models import DestinationInstance
from delivery import deliveries, egress, tasks
from delivery.adapters.base import PreparedRequest, Verdict
from delivery.models import DeliveryJob, IngestBatch, JobState
from delivery.sender import send
from tests.delivery.conftest import track
from tests.factories import make_instance, make_source
from tests.sinks import Reply

PUBLIC = "93.184.215.14"  # a global address; nothing is ever sent to it (see connect_guard)


@pytest.fixture
def resolver(monkeypatch):
    """A DNS of the test's own: ``answers[name]`` is a list of answers, one per lookup (the last
    repeats); other names resolve as usual. ``lookups`` counts lookups per name."""
    real = socket.getaddrinfo
    answers: dict[str, list] = {}
    lookups: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        n = lookups[host] = lookups.get(host, 0) + 1
        answer = answers[host][min(n, len(answers[host])) - 1]
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port or 80))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    egress.forget_answers()
    yield answers, lookups
    egress.forget_answers()


@pytest.fixture
def connect_guard(monkeypatch):
    """Lets connections reach loopback only; an attempt elsewhere is recorded and refused here,
    in this process, so the tests never send traffic off the machine."""
    real = urllib3.util.connection.create_connection
    attempts = []

    def create_connection(address, *args, **kwargs):
        attempts.append(address[0])
        if address[0] not in ("127.0.0.1", "localhost", "::1"):
            raise ConnectionRefusedError(f"test guard: no traffic to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return attempts


@pytest.fixture
def private_off(settings):
    settings.EGRESS_ALLOW_PRIVATE = False


def post(url, headers=None):
    return PreparedRequest("POST", url, b"{}", ["m"], headers or {"Content-Type": "text/plain"})


def port_of(sink) -> int:
    return int(sink.url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "form",
    [
        "http://127.0.0.1:{port}\\@public.example/x",  # urllib.parse sees public.example
        "http://127.0.0.1:{port}\\\\@public.example/x",
        "http://public.example\\@127.0.0.1:{port}/x",
        "http://public.example@127.0.0.1:{port}/x",
        "http://user:pw@public.example/x",
        "http://127.0.0.1:{port}\t@public.example/x",
        "http://public.example\r\n@127.0.0.1:{port}/x",
        "http://127.0.0.1:{port} @public.example/x",
        "http://[::ffff:127.0.0.1]:{port}/x",
        "http://2130706433:{port}/x",
        "http://0x7f.1:{port}/x",
        "gopher://127.0.0.1:{port}/x",
    ],
)
def test_no_url_form_reaches_a_loopback_listener_with_private_egress_off(
    form, sink, resolver, connect_guard, private_off
):
    resolver[0]["public.example"] = [PUBLIC]
    response = send(post(form.format(port=port_of(sink))))
    assert response.status == 0 and response.error
    assert not sink.received


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to(
    sink, resolver, connect_guard, private_off
):
    # DNS rebinding: a public answer for the check, loopback for any later lookup.
    answers, lookups = resolver
    answers["rebind.example"] = [PUBLIC, "127.0.0.1"]
    response = send(post(f"http://rebind.example:{port_of(sink)}/x"))
    assert not sink.received
    assert lookups["rebind.example"] == 1
    assert connect_guard == [PUBLIC]
    assert response.status == 0 and not response.permanent  # refused connection: retryable


def test_host_and_tls_name_keep_the_name_while_the_address_is_pinned(sink, resolver, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    resolver[0]["tool.example"] = ["127.0.0.1"]
    assert send(post(f"http://tool.example:{port_of(sink)}/x")).status == 200
    assert sink.received[0].headers["host"] == f"tool.example:{port_of(sink)}"


def test_a_name_that_does_not_resolve_is_a_retryable_failure(resolver, settings):
    settings.EGRESS_ALLOW_PRIVATE = False
    resolver[0]["gone.example"] = [None]
    response = send(post("http://gone.example/x"))
    assert response.status == 0 and "DNS lookup failed" in response.error
    assert not response.permanent
    assert deliveries._result(None, post("http://gone.example/x"), response).verdict == (
        Verdict.RETRY
    )


def test_a_private_address_is_a_permanent_refusal(sink, private_off):
    response = send(post(sink.url))
    assert response.status == 0 and response.permanent and "egress policy" in response.error


def test_a_redirect_to_another_host_carries_no_credentials(sink, settings):
    from tests.sinks import Sink

    settings.EGRESS_ALLOW_PRIVATE = True
    other = Sink()  # "localhost" is another host than "127.0.0.1", as a browser sees it
    try:
        elsewhere = other.url.replace("127.0.0.1", "localhost")
        sink.replies = [Reply(307, headers={"Location": f"{elsewhere}/landed"})]
        secret_headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer tool-key",
            "X-Signature": "abc123",
            "Api-Key": "k-1",
        }
        assert send(post(sink.url + "/start", secret_headers)).status == 200
        landed = other.received[0]
        assert landed.path == "/landed" and landed.body == b"{}"
        assert not {"authorization", "x-signature", "api-key"} & set(landed.headers)
        assert landed.headers["content-type"] == "application/json"
    finally:
        other.close()


def test_a_redirect_on_the_same_host_keeps_its_headers(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies = [Reply(308, headers={"Location": "/again"})]
    send(post(sink.url + "/start", {"Authorization": "Bearer tool-key"}))
    assert sink.received[1].headers["authorization"] == "Bearer tool-key"


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:{port}\\@public.example/x", "file:///etc/passwd"]
)
def test_each_redirect_hop_is_checked_like_the_first(location, sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    sink.replies = [Reply(302, headers={"Location": location.format(port=port_of(sink))})]
    response = send(post(sink.url + "/start"))
    assert response.status == 0 and response.error
    assert [r.path for r in sink.received] == ["/start"]


# Settings stored before they were validated must not poison a job: every attempt is judged by
# retries.decide, and the job ends dead-lettered within the retry window.

POISON = {
    "ipv6 bracket": {"webhookUrls": ["http://[::1"]},
    "colons": {"webhookUrls": ["http://a:b:c/"]},
    "port": {"webhookUrls": ["http://x:99999/"]},
    "header value": {"headers": {"X-Team": "Zürich ☃"}},
    "header name": {"headers": {"X-Team\r\nX-Injected": "1"}},
}


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


def stored_as_is(instance: DestinationInstance, values: dict) -> DestinationInstance:
    """Writes settings straight to the row, as an older release might have accepted them."""
    DestinationInstance.objects.filter(pk=instance.pk).update(
        settings={**instance.settings, **values}
    )
    return DestinationInstance.objects.get(pk=instance.pk)


def one_attempt_with_stored(source, sink, api, settings, values: dict) -> DeliveryJob:
    """One event to an enabled Webhooks instance whose row holds ``values``, and the job after
    its first attempt, which also ends its retry window."""
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_RETRY_WINDOW = 0
    instance = make_instance(
        source, "webhooks", name="Hook", settings={"webhookUrls": [f"{sink.url}/hook"]}
    )
    set_enabled(instance, True, None)
    stored_as_is(instance, values)
    assert api.batch([track(1)]).status_code == 200
    tasks.route_batch(IngestBatch.objects.get().pk)
    job = DeliveryJob.objects.get()
    tasks.deliver_job(job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", sorted(POISON))
def test_a_poison_setting_already_stored_is_dead_lettered_within_the_window(
    case, source, sink, api, settings
):
    job = one_attempt_with_stored(source, sink, api, settings, POISON[case])
    assert job.state == JobState.DEAD_LETTERED
    assert job.last_error
    assert not sink.received


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(POISON))
def test_the_event_tester_reports_a_poison_setting_instead_of_failing(
    case, source, sink, client_as, owner, settings
):
    settings.EGRESS_ALLOW_PRIVATE = True
    instance = make_instance(
        source, "webhooks", name="Hook", settings={"webhookUrls": [f"{sink.url}/hook"]}
    )
    stored_as_is(instance, POISON[case])
    response = client_as(owner).post(
        reverse("delivery:event-tester", args=[instance.workspace.slug, instance.pk]),
        {"event": '{"type": "track", "event": "Ping", "userId": "u1"}'},
        headers={"HX-Request": "true", "HX-Target": "tester-result"},
    )
    assert response.status_code == 200
    assert not sink.received


@pytest.mark.django_db
def test_the_event_tester_never_shows_an_internal_answer_through_a_parser_trick(
    source, sink, client_as, owner, resolver, connect_guard, private_off
):
    resolver[0]["public.example"] = [PUBLIC]
    sink.default = Reply(200, body=b"internal-only answer")
    instance = make_instance(
        source, "webhooks", name="Hook", settings={"webhookUrls": ["http://public.example/x"]}
    )
    stored_as_is(
        instance, {"webhookUrls": [f"http://127.0.0.1:{port_of(sink)}\\@public.example/x"]}
    )
    response = client_as(owner).post(
        reverse("delivery:event-tester", args=[instance.workspace.slug, instance.pk]),
        {"event": '{"type": "track", "event": "Ping", "userId": "u1"}'},
        headers={"HX-Request": "true", "HX-Target": "tester-result"},
    )
    assert response.status_code == 200
    assert b"internal-only answer" not in response.content
    assert not sink.received


@pytest.mark.django_db(transaction=True)
def test_settings_the_adapter_cannot_build_from_are_a_failed_attempt(source, sink, api, settings):
    job = one_attempt_with_stored(source, sink, api, settings, {"headers": ["not", "a", "map"]})
    assert job.state == JobState.DEAD_LETTERED
    assert "could not be built" in job.last_error


def test_an_answer_the_adapter_cannot_read_is_a_failed_attempt(sink, settings):
    from delivery.adapters import adapter_for

    settings.EGRESS_ALLOW_PRIVATE = True
    sink.default = Reply(400, body=b'{"events_with_invalid_fields": ["not", "a", "mapping"]}')
    adapter = adapter_for("amplitude")({"apiKey": "k", "endpoint": sink.url})
    prepared, _ = adapter.build([track(1) | {"messageId": "m-1", "userId": "u-1"}])
    [(_, _, result)] = list(deliveries.exchanges(adapter, prepared))
    assert result.verdict == Verdict.RETRY and "could not be read" in result.reason
