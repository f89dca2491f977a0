"""``GET /v1/projects/{writeKey}/settings``: analytics-next's CDNSettings for a source, its secrets
kept out, and conditional GETs that answer 304 until the configuration changes."""

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.loader import DATA_DIR, load_catalog
from catalog.models import DestinationMetadata
from connections import filters, instances, sources
from connections.models import DestinationInstance
from tests.factories import make_instance, make_source


@pytest.fixture
def website(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def key(website):
    return website.write_keys.get().key


def settings_url(key: str) -> str:
    return f"/v1/projects/{key}/settings"


def fetch(client, key, **headers):
    return client.get(settings_url(key), headers=headers)


def device_instance(source, slug="amplitude", name="", settings=None, enabled=True):
    """An instance switched to device mode through the real operations."""
    instance = make_instance(source, slug, name=name, settings=settings, enabled=enabled)
    return instances.set_mode(instance, "device", None)


def test_serves_the_document_analytics_next_expects(client, website, key):
    amplitude = device_instance(website, settings={"apiKey": "amp-public-key"})
    hooks = make_instance(website, "webhooks", name="Orders hook", enabled=True)

    response = fetch(client, key)

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    assert document["integrations"]["Amplitude"]["apiKey"] == "amp-public-key"
    assert document["integrations"]["Amplitude"]["bundlingStatus"] == "bundled"
    assert document["integrations"]["Amplitude"]["type"] == "browser"
    assert "browser" in document["integrations"]["Amplitude"]["versionSettings"]["componentTypes"]
    segment = document["integrations"]["Segment.io"]
    assert segment["apiKey"] == key
    assert segment["apiHost"] == "testserver/v1"
    assert segment["unbundledIntegrations"] == ["Webhooks"]
    assert segment["maybeBundledConfigIds"] == {"Amplitude": [amplitude.pk]}
    assert segment["bundledConfigIds"] == [amplitude.pk]
    assert segment["unbundledConfigIds"] == [hooks.pk]
    assert segment["addBundledMetadata"] is True
    assert document["plan"]["track"]["__default"] == {"enabled": True, "integrations": {}}
    assert document["plan"]["identify"]["__default"]["enabled"] is True
    assert document["middlewareSettings"] == {"routingRules": []}
    assert (document["enabledMiddleware"], document["remotePlugins"]) == ({}, [])
    assert document["edgeFunction"] == {}
    assert document["metrics"]["sampleRate"] == 0  # no telemetry to api.segment.io


def test_api_host_follows_the_request_host(client, website, key, settings):
    settings.ALLOWED_HOSTS = ["collect.example.com"]
    response = client.get(settings_url(key), HTTP_HOST="collect.example.com")
    assert response.json()["integrations"]["Segment.io"]["apiHost"] == "collect.example.com/v1"
    refused = client.get(settings_url(key), HTTP_HOST="evil.example.net")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_host"


def test_cloud_mode_instances_are_listed_unbundled_and_not_in_integrations(client, website, key):
    make_instance(website, "amplitude", name="Amplitude cloud", enabled=True)
    make_instance(website, "webhooks", name="Hook A", enabled=True)
    make_instance(website, "webhooks", name="Hook B", enabled=True)

    document = fetch(client, key).json()

    assert set(document["integrations"]) == {"Segment.io"}
    assert document["integrations"]["Segment.io"]["unbundledIntegrations"] == [
        "Amplitude",
        "Webhooks",
    ]


def test_disabled_instances_are_absent(client, website, key):
    device_instance(website, enabled=False)
    make_instance(website, "webhooks", enabled=False)

    document = fetch(client, key).json()

    assert set(document["integrations"]) == {"Segment.io"}
    assert document["integrations"]["Segment.io"]["unbundledIntegrations"] == []


def test_secret_settings_never_appear(client, website, key):
    # Braze's appGroupId, Amplitude's secretKey, Webhooks' sharedSecret are `secret: true`.
    device_instance(
        website, settings={"apiKey": "amp-public", "secretKey": "AMP-SECRET-4f1c9e"}, name="Amp"
    )
    device_instance(website, "braze", settings={"appGroupId": "BRAZE-SECRET-77ab20"})
    make_instance(
        website, "webhooks", settings={"sharedSecret": "HOOK-SECRET-0d3e5a"}, enabled=True
    )

    body = fetch(client, key).content.decode()

    assert "amp-public" in body
    for secret in ("AMP-SECRET-4f1c9e", "BRAZE-SECRET-77ab20", "HOOK-SECRET-0d3e5a"):
        assert secret not in body


def test_an_option_the_catalog_later_marks_secret_is_left_out(client, website, key):
    instance = device_instance(website, settings={"apiKey": "was-public-key"})
    metadata = instance.metadata
    metadata.options = [
        {**option, "secret": True} if option["name"] == "apiKey" else option
        for option in metadata.options
    ]
    metadata.save(update_fields=["options"])

    assert "was-public-key" not in fetch(client, key).content.decode()


# NUL: PostgreSQL text cannot hold it, so no key has one, and looking one up must not fail.
@pytest.mark.parametrize("unknown", ["no-such-key", "no\x00such-key"])
def test_unknown_write_key_is_a_json_404(client, website, key, unknown):
    response = fetch(client, unknown)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Unknown write key."}
    assert response["Access-Control-Allow-Origin"] == "*"


def test_deleted_write_key_is_a_404(client, website, key):
    sources.add_write_key(website, None)
    sources.delete_write_key(website.write_keys.get(key=key), None)
    assert fetch(client, key).status_code == 404


def test_disabled_source_is_served_without_destinations(client, website, key):
    device_instance(website)
    make_instance(website, "webhooks", enabled=True)
    sources.update_source(website, None, enabled=False)

    response = fetch(client, key)

    assert response.status_code == 200
    document = response.json()
    assert set(document["integrations"]) == {"Segment.io"}
    assert document["integrations"]["Segment.io"]["unbundledIntegrations"] == []


def test_cors_allows_any_site_and_exposes_the_etag(client, website, key):
    response = fetch(client, key, Origin="https://shop.example.com")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Expose-Headers"] == "ETag"
    preflight = client.options(settings_url(key), headers={"Origin": "https://shop.example.com"})
    assert preflight.status_code == 204 and "GET" in preflight["Access-Control-Allow-Methods"]
    assert client.post(settings_url(key)).status_code == 405


def test_same_version_revalidates_to_an_empty_304(client, website, key):
    first = fetch(client, key)
    assert first["Cache-Control"] == "public, no-cache"

    again = fetch(client, key, **{"If-None-Match": first["ETag"]})

    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Access-Control-Allow-Origin"] == "*"
    weak = fetch(client, key, **{"If-None-Match": f'"other", W/{first["ETag"]}'})
    assert weak.status_code == 304


def _changes(website):
    """Each console change that alters the document, made through the real operations."""
    amplitude = device_instance(website, enabled=False)
    yield lambda: instances.set_enabled(amplitude, True, None)
    yield lambda: instances.update_settings(amplitude, {"apiKey": "new-key"}, None, merge=True)
    yield lambda: instances.set_mode(amplitude, "cloud", None)
    yield lambda: instances.rename_instance(amplitude, "Product analytics", None)
    yield lambda: make_instance(website, "webhooks", enabled=True)
    yield lambda: instances.delete_instance(amplitude, None)
    yield lambda: sources.update_source(website, None, enabled=False)


def test_every_change_gives_a_new_etag_and_a_200(client, website, key):
    for change in _changes(website):
        tag = fetch(client, key)["ETag"]
        change()
        response = fetch(client, key, **{"If-None-Match": tag})
        assert response.status_code == 200, change
        assert response["ETag"] != tag
        assert orjson.loads(response.content)["integrations"]["Segment.io"]["apiKey"] == key


def test_each_write_key_has_its_own_etag(client, website, key):
    other = sources.add_write_key(website, None).key
    assert fetch(client, key)["ETag"] != fetch(client, other)["ETag"]
    assert fetch(client, other).json()["integrations"]["Segment.io"]["apiKey"] == other


def test_a_catalog_update_to_a_used_destination_changes_the_etag(client, website, key, tmp_path):
    device_instance(website)
    tag = fetch(client, key)["ETag"]
    data = tmp_path / "catalog"
    data.mkdir()
    entries = orjson.loads((DATA_DIR / "destinations.json").read_bytes())
    for entry in entries:
        if entry["slug"] == "amplitude":
            entry["name"] = "Amplitude Classic"
    (data / "destinations.json").write_bytes(orjson.dumps(entries))
    (data / "sources.json").write_bytes((DATA_DIR / "sources.json").read_bytes())

    load_catalog(data)

    response = fetch(client, key, **{"If-None-Match": tag})
    assert response.status_code == 200
    assert "Amplitude Classic" in response.json()["integrations"]


def grow(source, device: int, cloud: int) -> None:
    """Rows for scale (the operations are tested above; here only the row count matters)."""
    device_entries = DestinationMetadata.objects.filter(connection_modes__contains=["device"])
    webhooks = DestinationMetadata.objects.get(slug="webhooks")
    DestinationInstance.objects.bulk_create(
        [
            DestinationInstance(
                workspace=source.workspace,
                source=source,
                metadata=entry,
                name=f"Device {n}",
                enabled=True,
                mode="device",
                settings={"apiKey": "public"},
            )
            for n, entry in enumerate(device_entries[:device])
        ]
        + [
            DestinationInstance(
                workspace=source.workspace,
                source=source,
                metadata=webhooks,
                name=f"Hook {n}",
                enabled=True,
            )
            for n in range(cloud)
        ]
    )


@pytest.mark.parametrize("device, cloud", [(1, 1), (20, 20)])
def test_queries_do_not_grow_with_instances(client, website, key, device, cloud):
    grow(website, device, cloud)
    with CaptureQueriesContext(connection) as full:
        response = fetch(client, key)
    # 1. write key → source id, config_version, enabled (one indexed join)
    # 2. the source's enabled instances with their catalog entries
    # 3. the device-mode instances' enabled filters (routing rules)
    # 4. the workspace's Red and Yellow fields (the data controls' routing rules)
    assert response.status_code == 200 and len(full.captured_queries) == 4
    assert len(response.json()["integrations"]) == device + 1
    with CaptureQueriesContext(connection) as revalidated:
        response = fetch(client, key, **{"If-None-Match": response["ETag"]})
    # 1. write key → source id, config_version, enabled; the document is not built
    assert response.status_code == 304 and len(revalidated.captured_queries) == 1


def test_settings_requests_skip_sessions_and_csrf(client, website, key):
    response = client.post(settings_url(key))  # no CSRF token, yet not a CSRF 403
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert "sessionid" not in fetch(client, key).cookies
    assert "X-Frame-Options" not in fetch(client, key)


@pytest.mark.parametrize(
    "path", ["/next-integrations/integrations/amplitude/3.0.0/amplitude.dynamic.js.gz",
             "/analytics-next/bundles/ajs-destination.bundle.js"],
)  # fmt: skip
def test_device_mode_code_is_fetched_from_the_configured_cdn(client, settings, path):
    """analytics.js looks for tools' code next to the settings: Segapp points it at the CDN (the
    redirect is checked, never followed: tests reach 127.0.0.1 only)."""
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"https://cdn.segment.com{path}"
    settings.DEVICE_MODE_CDN = "https://assets.example.internal"
    assert client.get(path)["Location"] == f"https://assets.example.internal{path}"
    assert client.get(path)["Access-Control-Allow-Origin"] == "*"


def test_routing_rules_are_the_device_mode_instances_filters(client, website, key):
    amplitude = device_instance(website, settings={"apiKey": "k"})
    cloud = make_instance(website, "webhooks", name="Hook", enabled=True)
    first = fetch(client, key)
    drop = filters.create_filter(amplitude, None, title="No tests", condition="event = 'Test'",
                                 actions=[{"type": "DROP"}])  # fmt: skip
    filters.create_filter(amplitude, None, title="No emails", condition="all",
                          actions=[{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}])  # fmt: skip
    filters.create_filter(
        cloud, None, title="Server side only", condition="all", actions=[{"type": "DROP"}]
    )
    response = fetch(client, key, **{"If-None-Match": first["ETag"]})
    assert response.status_code == 200  # a filter change is a new version of the document
    (rule,) = response.json()["middlewareSettings"]["routingRules"]
    assert rule["destinationName"] == "Amplitude"
    assert rule["matchers"] == [
        {"type": "fql", "ir": '["=","event",{"value":"Test"}]'},
        {"type": "all", "ir": ""},
    ]
    assert rule["transformers"] == [
        [{"type": "drop"}],
        [{"type": "drop_properties", "config": {"drop": {"properties": ["email"]}}}],
    ]
    filters.update_filter(drop, None, enabled=False)
    (rule,) = fetch(client, key).json()["middlewareSettings"]["routingRules"]
    assert rule["matchers"] == [{"type": "all", "ir": ""}]


def test_a_catalog_update_that_makes_an_option_secret_encrypts_its_stored_values(
    client, website, key, tmp_path
):
    instance = device_instance(website, settings={"apiKey": "was-public-key"})
    instances.update_settings(instance, {**instance.settings, "apiKey": "newer-public-key"}, None)
    data = tmp_path / "catalog"
    data.mkdir()
    entries = orjson.loads((DATA_DIR / "destinations.json").read_bytes())
    for entry in entries:
        if entry["slug"] == "amplitude":
            entry["options"] = [{**o, "secret": o["name"] == "apiKey" or o.get("secret", False)}
                                for o in entry["options"]]  # fmt: skip
    (data / "destinations.json").write_bytes(orjson.dumps(entries))
    (data / "sources.json").write_bytes((DATA_DIR / "sources.json").read_bytes())

    load_catalog(data)

    instance.refresh_from_db()
    assert "apiKey" not in instance.settings and instance.secrets["apiKey"] == "newer-public-key"
    assert instance.masked_settings()["apiKey"] == "••••••••"
    for version in instance.settings_versions.all():
        assert "apiKey" not in version.settings and version.secrets["apiKey"].endswith("public-key")
    assert "public-key" not in fetch(client, key).content.decode()
