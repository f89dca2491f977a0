import base64
import gzip
import os
import signal
import sys

import orjson
import pytest
import requests

from segapp.models import Plan
from tests.factories import make_source
from tests.processes import REPO, free_port, start, stop, test_database_url, wait_for
from tests.sinks import SINK_HOSTS


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "http-api", name="Backend")


@pytest.fixture
def business_website(catalog, workspace):
    """A website source of a Business workspace (Replay is part of that plan)."""
    workspace.plan = Plan.BUSINESS
    workspace.save(update_fields=["plan"])
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def write_key(source):
    return source.write_keys.get().key


class TrackingApi:
    """The tracking API over real HTTP, as a client would call it."""

    def __init__(self, base_url: str, write_key: str):
        self.base_url = base_url
        self.write_key = write_key

    def post(
        self,
        path: str,
        body=None,
        *,
        raw: bytes | None = None,
        basic: str | None = "default",
        compress: bool = False,
        headers: dict | None = None,
    ) -> requests.Response:
        """``body`` is JSON-encoded; ``basic`` is the Basic user name (None: no header)."""
        data = raw if raw is not None else orjson.dumps(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if basic is not None:
            user = self.write_key if basic == "default" else basic
            all_headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:".encode()).decode()
        if compress:
            data = gzip.compress(data)
            all_headers["Content-Encoding"] = "gzip"
        return requests.post(f"{self.base_url}{path}", data=data, headers=all_headers, timeout=10)

    def batch(self, messages: list, **envelope) -> requests.Response:
        return self.post("/v1/batch", {"batch": messages, **envelope})


@pytest.fixture
def api(live_server, write_key):
    return TrackingApi(live_server.url, write_key)


def track(n: int = 0, **fields) -> dict:
    return {"type": "track", "event": f"Event {n}", "userId": f"user-{n}", **fields}


NESTED = "<nested>"


def with_nesting(body, levels: int) -> bytes:
    """``body`` as JSON, each ``NESTED`` in it replaced by objects nested ``levels`` deep. Written
    as text: encoders refuse such depths, which is what the tests are about."""
    nesting = b'{"level": ' * levels + b'"bottom"' + b"}" * levels
    return orjson.dumps(body).replace(orjson.dumps(NESTED), nesting)


def process_env(**extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
        "SEGAPP_ENDPOINT_EXTRA_HOSTS": SINK_HOSTS,
        **extra,
    }


def start_worker_with_sweeper(tmp_path, broker_url: str):
    """A real worker, sweeping every second after a one-second grace (no beat: workers sweep)."""
    env = process_env(
        CELERY_BROKER_URL=broker_url,
        SEGAPP_VAR_DIR=str(tmp_path),
        SEGAPP_ROUTING_SWEEP_INTERVAL="1",
        SEGAPP_ROUTING_SWEEP_GRACE="1",
    )
    args = [sys.executable, "-m", "celery", "-A", "segapp", "worker"]
    args += ["--concurrency", "1", "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
    return start(args, env, cwd=REPO)


def start_web(broker_url: str, workers: int = 1, **extra_env):
    """gunicorn serving Segapp on the test database, with the given broker."""
    port = free_port()
    env = process_env(CELERY_BROKER_URL=broker_url, **extra_env)
    args = [sys.executable, "-m", "gunicorn", "segapp.wsgi", "--bind", f"127.0.0.1:{port}"]
    proc, output = start([*args, "--workers", str(workers)], env, cwd=REPO)
    base_url = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.options(f"{base_url}/v1/batch", timeout=1).status_code == 204
        # The master accepts connections before its worker has loaded the app: on a busy machine
        # the first replies can take longer than the timeout, which is "not answering yet" too.
        except (requests.ConnectionError, requests.Timeout):
            assert proc.poll() is None, "".join(output.lines)
            return False

    try:
        wait_for(answers, timeout=30, message="gunicorn to answer")
    except BaseException:
        stop(proc, sig=signal.SIGTERM)  # the caller never gets it to stop
        raise
    return proc, output, base_url
