"""Liveness and readiness probes, and the owners' warning when sweeps have stopped."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from segapp import sweeps
from segapp.models import Role, Sweep
from tests.factories import make_member


@pytest.fixture(autouse=True)
def intervals(settings):
    settings.SWEEPS = {
        "delivery.tasks.dispatch_due_jobs": 2,
        "delivery.tasks.compact_counters": 600,
    }


def run_every_sweep():
    for name in sweeps.settings.SWEEPS:
        assert sweeps.claim(name, timedelta(seconds=30))
        sweeps.finish(name)


def test_healthz_answers_without_touching_the_database(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_until_a_worker_sweeps_and_beats(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == checks["broker"] == checks["migrations"] == "ok"
    assert checks["catalog"] == "ok"  # migrate loaded it
    assert "sweeps stopped" in checks["sweeps"] and "heartbeat" in checks["workers"]

    run_every_sweep()
    sweeps.beat("celery@test")
    response = client.get("/readyz", headers={"Accept": "text/html"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_once_a_sweep_has_not_run_for_three_intervals(client):
    run_every_sweep()
    sweeps.beat("celery@test")
    assert client.get("/readyz").status_code == 200
    Sweep.objects.filter(pk="delivery.tasks.dispatch_due_jobs").update(
        last_finished_at=timezone.now() - timedelta(seconds=7)
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "dispatch_due_jobs" in response.json()["checks"]["sweeps"]


def banner(client, workspace) -> str:
    return client.get(reverse("segapp:sweeps-banner", args=[workspace.slug])).content.decode()


def test_owners_are_warned_when_sweeps_stopped_and_others_are_not(workspace, owner, client_as):
    member = make_member(workspace, Role.MEMBER)
    assert "Retries and lost-task recovery have stopped" in banner(client_as(owner), workspace)
    assert banner(client_as(member), workspace).strip() == ""
    run_every_sweep()
    assert banner(client_as(owner), workspace).strip() == ""


def test_every_page_loads_the_banner_after_itself(workspace, owner, client_as):
    page = client_as(owner).get(reverse("segapp:workspace-overview", args=[workspace.slug]))
    assert reverse("segapp:sweeps-banner", args=[workspace.slug]) in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_from_a_thread_where_an_event_loop_runs(client):
    # A WSGI server may run its handlers beside an event loop (as Playwright's sync API leaves
    # one in the test process): the probe must still answer, not fail with a 500.
    async def probe():
        return client.get("/readyz")

    # A thread of the test's own, as the test process may already run a loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        response = pool.submit(asyncio.run, probe()).result()
    assert response.status_code == 503  # no worker here; a real answer either way
