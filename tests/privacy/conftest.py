import pytest

from tests.factories import make_source


@pytest.fixture(autouse=True)
def _deliver_to_local_sinks(settings):
    """Destinations here are HTTP sinks on 127.0.0.1, and a failed attempt is due again at once."""
    settings.EGRESS_ALLOW_PRIVATE = True
    settings.DELIVERY_RETRY_BASE_DELAY = 0


@pytest.fixture
def site(catalog, workspace):
    return make_source(workspace, "javascript", name="Site")
