"""One health word per instance from the last 24 hours of counters and the breaker, shown on the
Connections home, the Sources and Destinations lists and the source page, in a constant number
of queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections import instances
from delivery.health import health_of
from delivery.models import DeliveryCounter, InstanceHealth
from tests.factories import make_instance, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(catalog, workspace):
    return make_source(workspace, "javascript", name="Site")


def count(instance, outcome, n=1, ago=timedelta(minutes=5)):
    minute = (timezone.now() - ago).replace(second=0, microsecond=0)
    DeliveryCounter.objects.create(instance_id=instance.pk, minute=minute, outcome=outcome, count=n)


def word(instance) -> str:
    instance = type(instance).objects.select_related("metadata").get(pk=instance.pk)
    return health_of([instance])[instance.pk].word


def test_words_from_the_counters(site):
    hook = make_instance(site, "webhooks", name="Hook", enabled=True)
    assert word(hook) == "no traffic"
    count(hook, "filtered", 3)
    assert word(hook) == "filtered everything"
    count(hook, "delivered", 5, ago=timedelta(minutes=10))
    assert word(hook) == "delivering"
    count(hook, "retrying", 2, ago=timedelta(minutes=2))
    assert word(hook) == "retrying"
    count(hook, "delivered", 1, ago=timedelta(minutes=1))
    assert word(hook) == "delivering"
    count(hook, "discarded", 1, ago=timedelta(minutes=30))
    assert word(hook) == "failing"


def test_counters_older_than_a_day_do_not_count(site):
    hook = make_instance(site, "webhooks", name="Hook", enabled=True)
    count(hook, "dead_lettered", 4, ago=timedelta(hours=25))
    assert word(hook) == "no traffic"


def test_an_open_breaker_is_failing_even_while_delivering(site):
    hook = make_instance(site, "webhooks", name="Hook", enabled=True)
    count(hook, "delivered", 9)
    InstanceHealth.objects.create(
        instance_id=hook.pk,
        consecutive_failures=5,
        open_until=timezone.now() + timedelta(minutes=1),
    )
    assert word(hook) == "failing"


def test_cloud_mode_without_an_adapter_cannot_send(site):
    heap = make_instance(site, "heap", name="Heap")
    assert word(heap) == "cannot send"
    assert word(instances.set_mode(heap, "device", None)) == "no traffic"


PAGES = ["workspace-overview", "source-list", "instance-list", "source-detail"]


def page_url(page, workspace, source):
    if page == "workspace-overview":
        return reverse("segapp:workspace-overview", args=[workspace.slug])
    if page == "source-detail":
        return reverse("connections:source-detail", args=[workspace.slug, source.pk])
    return reverse(f"connections:{page}", args=[workspace.slug])


@pytest.mark.parametrize("page", PAGES)
def test_a_failing_instance_shows_failing_never_plain_enabled(
    page, site, client_as, owner, workspace
):
    hook = make_instance(site, "webhooks", name="Orders hook", enabled=True)
    count(hook, "delivered", 50)
    count(hook, "discarded", 3)
    html = client_as(owner).get(page_url(page, workspace, site)).text
    assert 'data-health="failing"' in html
    assert (
        '<span class="ok">Enabled</span>'
        not in html.split("Orders hook", 1)[1].split("</li>")[0].split("</tr>")[0]
    )


# Queries for each page, whatever the number of sources and instances: session, user, the
# membership with its workspace (access), the switcher's memberships; then the page's rows; then
# the counters grouped by instance and outcome, and the open breakers (delivery.health).
#   home, Sources:  sources, their instances with catalog entries (one prefetch)
#   Destinations:   instances with their sources and catalog entries
#   source page:    the source, its instances with catalog entries, its write keys
# Catalog entries (and, on the destinations list, sources) come in one query each, not a copy per
# row: one query more than a join, and a page of 2,000 instances renders in a fifth of the time.
QUERIES = {"workspace-overview": 9, "source-list": 9, "instance-list": 9, "source-detail": 9}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("rows", [1, 20])
def test_pages_with_health_use_a_constant_number_of_queries(
    page, rows, site, client_as, owner, workspace, django_assert_num_queries
):
    sources = [site] + [
        make_source(workspace, "javascript", name=f"Site {n}") for n in range(1, rows)
    ]
    for n, source in enumerate(sources):
        hook = make_instance(source, "webhooks", name=f"Hook {n}", enabled=True)
        count(hook, "delivered", 3)
        for extra in range(rows - 1 if source is site else 0):
            make_instance(source, "webhooks", name=f"Hook {n}.{extra}")
    client = client_as(owner)
    url = page_url(page, workspace, site)
    client.get(url)  # the first visit writes the session
    with django_assert_num_queries(QUERIES[page]):
        assert client.get(url).status_code == 200
