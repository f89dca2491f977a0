"""The real analytics.js (``@segment/analytics-next``'s UMD build) on a page of another site loads
its settings from Segapp, sends page and track calls that land in the archive, and sees a
destination switched off in the console on its very next page load."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from connections import instances
from delivery.models import Event
from tests.factories import make_instance, make_source
from tests.processes import REPO, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UMD = REPO / "tests/clients/node_modules/@segment/analytics-next/dist/umd"
BUNDLES = "/analytics-next/bundles/"

PAGE = """<!doctype html>
<html><head><title>Shop</title></head>
<body>
<script>
  // A snippet-style custom CDN: the UMD build fetches its code-split chunks from here.
  window.analytics = [];
  window.analytics._cdn = location.origin;
</script>
<script src="/analytics-next/bundles/index.js"></script>
<script>
  // The page is plain http, and so is Segapp here: the tracking calls must be too.
  const analytics = AnalyticsNext.AnalyticsBrowser.load(
    {writeKey: %(key)s, cdnURL: %(cdn)s},
    {integrations: {"Segment.io": {protocol: "http"}}},
  );
  window.received = analytics.then(([instance]) => instance.settings.cdnSettings);
  window.sent = (async () => {
    await analytics.page("Shop", "Home");
    await analytics.track("Signed Up", {plan: "pro"});
    return true;
  })();
</script>
</body></html>
"""


class Site:
    """Another site on 127.0.0.1 that embeds analytics.js (its own origin, like a real shop)."""

    def __init__(self, write_key: str, cdn_url: str):
        page = (PAGE % {"key": json.dumps(write_key), "cdn": json.dumps(cdn_url)}).encode()

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith(BUNDLES):
                    self.path = "/" + self.path.removeprefix(BUNDLES)
                    return super().do_GET()
                if self.path != "/":
                    return self.send_error(404)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(UMD)))
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Traffic:
    """What the browser asked Segapp for: settings responses and tracking requests."""

    def __init__(self, page):
        self.settings: list = []
        self.tracking: list = []
        page.on("response", self._response)
        page.on("request", self._request)

    def _response(self, response):
        if "/v1/projects/" in response.url:
            self.settings.append(response)

    def _request(self, request):
        if request.method == "POST" and "/v1/" in request.url:
            self.tracking.append(request)


@pytest.fixture
def website(catalog, workspace):
    return make_source(workspace, "javascript", name="Shop")


@pytest.fixture
def site(live_server, website):
    site = Site(website.write_keys.get().key, live_server.url)
    yield site
    site.close()


# Stands in for Amplitude's own browser code, which analytics.js fetches from
# {cdnURL}/next-integrations/; the real one would call Amplitude. It records what analytics.js
# hands it: the settings from our document and each event. (A missing script is not enough:
# analytics.js still sends to Segapp, but its ready() and the first call's promise never settle.)
AMPLITUDE_STAND_IN = """
window.deviceModeCalls = [];
function Amplitude(options) { this.options = options; this.handlers = {}; }
Amplitude.prototype.name = "Amplitude";
Amplitude.prototype.on = function (name, fn) {
  (this.handlers[name] = this.handlers[name] || []).push(fn); return this;
};
Amplitude.prototype.once = Amplitude.prototype.on;
Amplitude.prototype.emit = function (name) { (this.handlers[name] || []).forEach((fn) => fn()); };
Amplitude.prototype.initialize = function () { this.emit("initialize"); this.emit("ready"); };
Amplitude.prototype.loaded = function () { return true; };
Amplitude.prototype.invoke = function (method, facade) {
  window.deviceModeCalls.push({method: method, apiKey: this.options.apiKey, event: facade.event ? facade.event() : null});
};
window.amplitudeDeps = [];
window.amplitudeLoader = function () {};
window.amplitudeIntegration = Amplitude;
"""


def serve_amplitude_stand_in(page) -> list:
    """Answers analytics.js's request for Amplitude's code (on Segapp's origin, as cdnURL
    says); returns the list of those requests."""
    loads = []

    def fulfill(route):
        loads.append(route.request.url)
        route.fulfill(body=AMPLITUDE_STAND_IN, content_type="application/javascript")

    page.route("**/next-integrations/integrations/amplitude/**", fulfill)
    return loads


def settings_statuses(caplog) -> list[int]:
    """What the server answered to settings requests (a browser reports a revalidated copy as 200)."""
    return [
        record.status
        for record in caplog.records
        if getattr(record, "path", "") == "/v1/projects/***/settings"
    ]


def load_shop(page, site) -> dict:
    """Opens the shop page, waits until both calls were sent, returns the settings analytics.js
    received."""
    page.goto(site.url)
    assert page.evaluate("window.sent") is True
    return page.evaluate("window.received")


def test_analytics_js_loads_settings_sends_events_and_sees_a_console_toggle(
    page, signed_in, owner, workspace, website, site, live_server, caplog
):
    amplitude = make_instance(website, "amplitude", settings={"apiKey": "amp-browser-key"})
    amplitude = instances.set_mode(instances.set_enabled(amplitude, True, None), "device", None)
    make_instance(website, "webhooks", name="Orders hook", enabled=True)
    key = website.write_keys.get().key
    traffic = Traffic(page)
    amplitude_loads = serve_amplitude_stand_in(page)

    received = load_shop(page, site)

    assert received["integrations"]["Amplitude"]["apiKey"] == "amp-browser-key"
    segment = received["integrations"]["Segment.io"]
    assert segment["apiKey"] == key
    assert segment["apiHost"] == live_server.url.removeprefix("http://") + "/v1"
    assert segment["unbundledIntegrations"] == ["Webhooks"]
    assert [r.status for r in traffic.settings] == [200] == settings_statuses(caplog)
    # Device mode: analytics.js loaded Amplitude's code, configured from our document, and sent
    # it the events itself.
    assert len(amplitude_loads) == 1
    calls = page.evaluate("window.deviceModeCalls")
    assert {c["apiKey"] for c in calls} == {"amp-browser-key"}
    assert [c["method"] for c in calls] == ["page", "track"]
    assert calls[1]["event"] == "Signed Up"

    # analytics.js posts text/plain (no CORS preflight) to the short paths.
    wait_for(lambda: len(traffic.tracking) >= 2, 10, message="two tracking requests")
    assert sorted(r.url.rsplit("/", 1)[1] for r in traffic.tracking) == ["p", "t"]
    for request in traffic.tracking:
        assert request.all_headers()["content-type"].startswith("text/plain")
    wait_for(lambda: Event.objects.filter(source=website).count() == 2, 10, message="two events")
    events = {e.type: e.message for e in Event.objects.filter(source=website)}
    user_agent = page.evaluate("navigator.userAgent")
    assert events["track"]["event"] == "Signed Up"
    assert events["track"]["properties"] == {"plan": "pro"}
    for message in events.values():
        assert message["context"]["page"]["url"] == site.url
        assert message["context"]["userAgent"] == user_agent

    # While a route is set Playwright bypasses the browser's HTTP cache; from here on the cache
    # works as on a real page.
    page.unroute_all()

    # Switch the device-mode instance off in the console, in the same browser.
    signed_in(owner)
    page.goto(f"/w/{workspace.slug}/destinations/{amplitude.pk}/")
    page.get_by_role("switch", name="Destination enabled").click()
    expect(page.get_by_role("switch", name="Destination enabled")).to_have_attribute(
        "aria-checked", "false"
    )

    # The very next page load revalidates its cached copy and gets the new document.
    stale_tag = traffic.settings[0].all_headers()["etag"]
    traffic.settings.clear()
    caplog.clear()
    amplitude_loads.clear()
    received = load_shop(page, site)
    assert "Amplitude" not in received["integrations"]
    assert amplitude_loads == [] and page.evaluate("window.deviceModeCalls") is None
    assert received["integrations"]["Segment.io"]["unbundledIntegrations"] == ["Webhooks"]
    (response,) = traffic.settings
    assert response.request.all_headers()["if-none-match"] == stale_tag
    assert settings_statuses(caplog) == [200]

    # Nothing changed since: the browser's revalidation is answered 304 and it reuses its copy.
    current_tag = response.all_headers()["etag"]
    traffic.settings.clear()
    caplog.clear()
    assert "Amplitude" not in load_shop(page, site)["integrations"]
    (response,) = traffic.settings
    assert response.request.all_headers()["if-none-match"] == current_tag
    assert settings_statuses(caplog) == [304]
