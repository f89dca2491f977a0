"""``/metrics``: who may read it, and values that move as events flow through real processes."""

import os

import orjson
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from connections.instances import set_enabled
from tests.delivery.conftest import start_web
from tests.factories import make_instance, make_source
from tests.processes import start_worker, stop, wait_for


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} from the exposition format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_answer_this_machine_only_without_a_token(db, client):
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 403
    # A forwarded address does not make a remote client local.
    assert (
        client.get("/metrics", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code
        == 403
    )
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert ("segapp_unrouted_batches", ()) in samples(response.content.decode())


def test_metrics_answer_the_token_from_anywhere(db, client, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", headers=wrong, REMOTE_ADDR="10.0.0.7").status_code == 403
    right = {"Authorization": "Bearer scrape-me"}
    assert client.get("/metrics", headers=right, REMOTE_ADDR="10.0.0.7").status_code == 200


def test_probes_answer_whatever_host_they_are_called_by(db, client):
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_values_move_as_events_flow_through_web_and_worker_processes(
    catalog, workspace, sink, broker, tmp_path
):
    source = make_source(workspace, "javascript", name="Website")
    hook = make_instance(
        source, "webhooks", name="Hook", settings={"webhookUrls": [f"{sink.url}/hook"]}
    )
    set_enabled(hook, True, None)
    key = source.write_keys.get().key
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "SEGAPP_EGRESS_ALLOW_PRIVATE": "1"}
    web, _, base_url = start_web(os.environ["CELERY_BROKER_URL"], workers=2, **env)
    worker, output = start_worker(
        os.environ["CELERY_BROKER_URL"],
        concurrency=2,
        extra_env={**env, "SEGAPP_VAR_DIR": str(tmp_path)},
    )
    try:

        def scrape() -> dict:
            response = requests.get(f"{base_url}/metrics", timeout=10)
            assert response.status_code == 200
            return samples(response.text)

        before = scrape()
        for n in range(4):
            batch = [{"type": "track", "event": "E", "userId": f"u{n}-{i}"} for i in range(5)]
            body = orjson.dumps({"writeKey": key, "batch": batch})
            assert requests.post(f"{base_url}/v1/batch", data=body, timeout=10).status_code == 200
        wait_for(lambda: len(sink.received) == 20, timeout=60, message="20 deliveries")

        def moved(name, labels, by):
            key_ = (name, tuple(sorted(labels.items())))
            return scrape().get(key_, 0) - before.get(key_, 0) == by

        wait_for(
            lambda: moved(
                "segapp_deliveries_total", {"destination": hook.pk, "outcome": "delivered"}, 20
            ),
            timeout=30,
            message="delivered count to reach 20",
        )
        wait_for(
            lambda: scrape()[("segapp_workers_live", ())] >= 1,
            timeout=15,
            message="the worker's heartbeat",
        )
        after = scrape()
        accepted = ("segapp_events_total", (("result", "accepted"), ("source", source.pk)))
        assert after[accepted] - before.get(accepted, 0) == 20
        tracking = ("segapp_http_requests_total", (("status", "200"), ("surface", "tracking")))
        assert after[tracking] - before.get(tracking, 0) == 4
        latency = ("segapp_delivery_latency_seconds_count", ())
        assert after[latency] - before.get(latency, 0) == 20
        assert after[("segapp_unrouted_batches", ())] == 0
        assert after[("segapp_broker_queue_length", ())] >= 0  # present, empty or not
        dispatch = ("segapp_sweep_age_seconds", (("sweep", "delivery.tasks.dispatch_due_jobs"),))
        assert 0 <= after[dispatch] < 30
    except AssertionError:
        print("".join(output.lines[-40:]))
        raise
    finally:
        stop(worker, sig=15)
        stop(web, sig=15)
