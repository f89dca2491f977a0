"""Endpoint overrides receive the tool's credentials, so a caller who may edit settings can name
only the tool's own hosts (catalog data) or an operator's extra host (DESIGN §4.2)."""

import pytest

from connections.models import MASK, DestinationInstance
from tests.api.conftest import errors_of, patch_settings
from tests.factories import make_instance

INTERCOM = {"apiKey": "intercom-token-1"}


@pytest.fixture
def intercom(source):
    return make_instance(source, "intercom", settings=INTERCOM)


def test_member_cannot_point_intercom_at_another_host(member_api, intercom):
    response = patch_settings(member_api, intercom, {"endpoint": "https://collector.example.net"})
    (error,) = errors_of(response, 422)
    assert (error["type"], error["field"]) == ("endpoint-not-allowed", "settings.endpoint")
    assert "api.eu.intercom.io" in error["message"]
    intercom.refresh_from_db()
    assert intercom.settings["endpoint"] == "" and intercom.secrets == INTERCOM


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://api.intercom.io",  # the credentials would cross the network in clear
        "https://api.intercom.io:8443",
        "https://api.intercom.io.example.net",
        "https://evil.example.net/?https://api.intercom.io",
        "https://api.intercom.io@evil.example.net",
        "https://127.0.0.2:5000",
    ],
)
def test_refuses_lookalikes_of_the_documented_hosts(api, intercom, endpoint):
    (error,) = errors_of(patch_settings(api, intercom, {"endpoint": endpoint}), 422)
    assert error["field"] == "settings.endpoint"
    assert error["type"] in {"endpoint-not-allowed", "url-invalid"}


def test_a_documented_region_is_accepted(api, intercom):
    eu = "https://api.eu.intercom.io"
    response = patch_settings(api, intercom, {"endpoint": eu, "apiKey": "intercom-eu-token"})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["destination"]["settings"]["apiKey"] == MASK
    intercom.refresh_from_db()
    assert intercom.settings["endpoint"] == eu
    assert intercom.secrets == {"apiKey": "intercom-eu-token"}


def test_braze_clusters_match_the_documented_pattern(api, source):
    settings = {"appGroupId": "rest-key", "apiKey": "app"}
    braze = make_instance(source, "braze", settings=settings)
    ok = {"restCustomEndpoint": "https://rest.fra-02.braze.eu", "appGroupId": "rest-key-2"}
    assert patch_settings(api, braze, ok).status_code == 200
    bad = {"restCustomEndpoint": "https://rest.evil.example.com", "appGroupId": "k"}
    (error,) = errors_of(patch_settings(api, braze, bad), 422)
    assert (error["type"], error["field"]) == (
        "endpoint-not-allowed",
        "settings.restCustomEndpoint",
    )


def test_operator_extra_hosts_are_accepted(api, intercom, settings):
    settings.ENDPOINT_EXTRA_HOSTS = ["proxy.corp.example:3128"]
    ok = {"endpoint": "http://proxy.corp.example:3128/intercom", "apiKey": "k"}
    assert patch_settings(api, intercom, ok).status_code == 200
    other_port = {"endpoint": "http://proxy.corp.example:8080", "apiKey": "k"}
    (error,) = errors_of(patch_settings(api, intercom, other_port), 422)
    assert error["type"] == "endpoint-not-allowed"


def test_refused_on_create_too(api, source):
    body = {
        "sourceId": source.pk,
        "metadataId": DestinationInstance._meta.get_field("metadata")
        .related_model.objects.get(slug="amplitude")
        .pk,
        "settings": {"apiKey": "a", "endpoint": "https://collector.example.net"},
    }
    (error,) = errors_of(api.post("/destinations", body), 422)
    assert (error["type"], error["field"]) == ("endpoint-not-allowed", "settings.endpoint")
    assert not DestinationInstance.objects.exists()
