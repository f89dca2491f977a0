"""README's run command on the embedded default, under load and trouble: a load of events from two
clients delivered exactly once, a killed worker started again, and a second start that keeps the
demo login, its sessions and the API tokens as they were."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import orjson
import pytest

from tests.delivery.test_embedded_default import CREATE_SOURCE
from tests.processes import REPO, free_port, sign_in, start, stop, wait_for
from tests.segapp.test_worker_processes import readme_run_command

WORKER_ERRORS = re.compile(r"Unrecoverable error|Traceback|JSONDecodeError")

# One client process: sends COUNT events in batches of 100 to /v1/batch, message ids PREFIX-n.
CLIENT = """
import base64, sys, urllib.request
import orjson
url, key, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
for first in range(0, count, 100):
    batch = [{"type": "track", "event": "Load", "userId": f"u{n % 50}", "messageId": f"{prefix}-{n}",
              "properties": {"n": n}} for n in range(first, min(first + 100, count))]
    request = urllib.request.Request(url + "/v1/batch", data=orjson.dumps({"batch": batch}),
                                     headers={"Content-Type": "application/json", "Authorization": auth})
    urllib.request.urlopen(request, timeout=60).read()
"""


class Run:
    """README's run command in a temporary var folder, as a newcomer starts it."""

    def __init__(self, var_dir):
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SEGAPP_SECRET_KEY")
        }
        self.env.update(SEGAPP_VAR_DIR=str(var_dir), SEGAPP_PORT=str(free_port()))
        self.database = var_dir / "segapp.sqlite3"

    def start(self):
        self.proc, self.output = start(["bash", "-c", readme_run_command()], self.env)
        self.url = self.output.wait_for_match(r"running at (http://\S+)/", timeout=240).group(1)
        self.login = self.output.wait_for_match(r"sign in as (\S+) / (\S+)", timeout=5).groups()
        return self

    def stop(self):
        assert stop(self.proc) == 0, self.log(40)

    def log(self, lines=60) -> str:
        return "".join(self.output.lines[-lines:])

    def manage(self, *args, stdin=None) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, input=stdin,
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip

    def create_webhook_source(self, sink_url) -> str:
        script = CREATE_SOURCE.replace("SINK_URL", sink_url)
        return self.manage("shell", "-c", script).strip().splitlines()[-1]

    def send(self, write_key, prefixes, count) -> None:
        clients = [
            subprocess.Popen(
                [sys.executable, "-c", CLIENT, self.url, write_key, prefix, str(count)]
            )
            for prefix in prefixes
        ]
        assert [client.wait(timeout=600) for client in clients] == [0] * len(clients)

    def count(self, query) -> int:
        with sqlite3.connect(self.database, timeout=20) as database:
            return database.execute(query).fetchone()[0]


def delivered_ids(sink) -> list[str]:
    ids = []
    for request in list(sink.received):
        body = orjson.loads(request.body)
        ids += [m["messageId"] for m in body] if isinstance(body, list) else [body["messageId"]]
    return ids


def wait_for_deliveries(sink, expected: int, timeout: float) -> list[str]:
    wait_for(lambda: len(delivered_ids(sink)) >= expected, timeout, 1, f"{expected} deliveries")
    time.sleep(3)  # anything delivered twice arrives by now
    return delivered_ids(sink)


@pytest.mark.slow
def test_twenty_thousand_events_from_two_clients_are_delivered_exactly_once(tmp_path, sink):
    run = Run(tmp_path).start()
    try:
        write_key = run.create_webhook_source(sink.url)
        started = time.monotonic()
        run.send(write_key, ["a", "b"], 10_000)
        sent = time.monotonic()
        ids = wait_for_deliveries(sink, 20_000, timeout=600)
        print(
            f"20000 events: sent in {sent - started:.0f}s, delivered in {time.monotonic() - started:.0f}s"
        )
        assert sorted(ids) == sorted(f"{p}-{n}" for p in "ab" for n in range(10_000))
        assert run.count("SELECT COUNT(*) FROM delivery_event") == 20_000
        assert not WORKER_ERRORS.search("".join(run.output.lines)), run.log()
    finally:
        run.stop()


@pytest.mark.slow
def test_run_restarts_a_killed_worker_and_delivers_before_and_after(tmp_path, sink):
    run = Run(tmp_path).start()
    try:
        write_key = run.create_webhook_source(sink.url)
        run.send(write_key, ["before"], 200)
        wait_for_deliveries(sink, 200, timeout=120)

        pid = int(re.findall(r"worker started \(pid (\d+)\)", "".join(run.output.lines))[-1])
        os.kill(pid, signal.SIGKILL)
        run.output.wait_for_match(rf"worker \(pid {pid}\) exited with code -9; restarting", 30)
        run.output.wait_for_match(r"worker started \(pid \d+\)", 30)

        run.send(write_key, ["after"], 200)
        ids = wait_for_deliveries(sink, 400, timeout=120)
        assert sorted(ids) == sorted(f"{p}-{n}" for p in ("before", "after") for n in range(200))
    finally:
        run.stop()


@pytest.mark.slow
def test_running_again_keeps_the_demo_login_its_sessions_and_the_tokens(tmp_path):
    run = Run(tmp_path).start()
    try:
        session = sign_in(run.url, *run.login)
        assert run.count("SELECT COUNT(*) FROM segapp_apitoken") == 0
    finally:
        run.stop()

    again = Run(tmp_path)
    again.env["SEGAPP_PORT"] = run.env["SEGAPP_PORT"]  # the session cookie is for this host:port
    again.start()
    try:
        assert again.login == run.login
        page = session.get(f"{again.url}/", timeout=10)
        assert "/signin/" not in page.url and "Demo" in page.text
        assert run.count("SELECT COUNT(*) FROM segapp_apitoken") == 0
        ops = ["--email", "ops@example.com", "--password", "ops-pass-123"]
        token = orjson.loads(again.manage("bootstrap", "--workspace", "Demo", *ops, "--json"))
        assert token["api_token"]
        assert run.count("SELECT COUNT(*) FROM segapp_apitoken") == 1
    finally:
        again.stop()
