"""Regulations with a real Celery worker on Redis and a real HTTP sink: the worker's routing never
sends a suppressed user's events to a Webhooks instance while another user's arrive, and its own
sweep carries out a deletion in the archive."""

import signal
import time

import pytest
import requests

from delivery.models import Event
from privacy import regulations
from privacy.models import Regulation, RegulationStatus
from tests.delivery.test_engine_workers import hook, worker
from tests.privacy.regulation_setup import filtered, received_users, track
from tests.processes import stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def post(live_server, source, messages) -> None:
    response = requests.post(f"{live_server.url}/v1/batch", json={"batch": messages},
                             auth=(source.write_keys.get().key, ""), timeout=10)  # fmt: skip
    assert response.status_code == 200 and response.json()["success"] is True, response.text


def test_a_worker_suppresses_in_routing_and_deletes_in_its_sweep(
    live_server, workspace, site, sink, broker, tmp_path
):
    instance = hook(site, sink, "Hook")
    suppression = regulations.create_regulation(
        workspace, None, regulation_type="SUPPRESS_ONLY", subject_ids=["quiet"]
    )
    proc, output = worker(tmp_path, broker, concurrency=2, SEGAPP_ERASURE_INTERVAL="1")
    try:
        for n in range(3):
            post(live_server, site, [track("quiet", n), track("loud", n)])
        wait_for(lambda: len(sink.received) >= 3, timeout=60, message="loud's events")
        time.sleep(1)  # a quiet event sent late would show now
        assert sorted(received_users(sink)) == ["loud"] * 3
        reason = f"user suppressed (regulation {suppression.pk})"
        wait_for(lambda: filtered(instance).get(reason) == 3, timeout=30,
                 message="the suppressed events counted as filtered")  # fmt: skip
        assert Event.objects.filter(source_id=site.pk, user_id="quiet").count() == 3

        deletion = regulations.create_regulation(
            workspace, None, regulation_type="DELETE_ONLY", subject_ids=["loud"]
        )
        wait_for(
            lambda: Regulation.objects.get(pk=deletion.pk).status == RegulationStatus.FINISHED,
            timeout=60, message="the worker's sweep to carry out the deletion",
        )  # fmt: skip
    finally:
        stop(proc, sig=signal.SIGTERM)

    kept = Event.objects.filter(source_id=site.pk).values_list("user_id", flat=True)
    assert sorted(kept) == ["quiet"] * 3
    step = deletion.steps.get()
    assert (step.status, step.deleted) == (RegulationStatus.FINISHED, 3)
    assert "archive erasure" in "".join(output.lines), "the sweep ran in the worker"
