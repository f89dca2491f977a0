"""README's Production section followed as written, on a fresh PostgreSQL database: the catalog
arrives with ``migrate``, and with only web and worker processes (no beat) an event a tool
refused at first is retried until it is delivered, once."""

import json
import os
import re
import secrets
import subprocess
import sys
import sysconfig
from collections import Counter

import orjson
import psycopg
import pytest
import requests

from tests.processes import REPO, free_port, start, stop, wait_for
from tests.sinks import Reply, Sink

pytestmark = pytest.mark.slow


def readme_production_commands() -> list[str]:
    """The commands of README's Production block, comments and exports left out (the test sets
    the environment itself)."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Production", 1)[1]
    block = re.search(r"```sh\n(.+?)\n```", section, re.S).group(1)
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [c for c in commands if c and not c.startswith("export ")]


@pytest.fixture
def fresh_database():
    name = f"segapp_readme_{secrets.token_hex(4)}"
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def venv(tmp_path):
    """A new virtualenv for ``pip install .``; it sees the test environment's packages, so only
    Segapp itself is built and installed."""
    path = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    site = next((path / "lib").glob("python3*/site-packages"))
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path


def test_readme_production_steps_deliver_every_event_once_without_beat(
    fresh_database, venv, broker, tmp_path
):
    commands = readme_production_commands()
    assert commands[0] == "pip install ." and not any("beat" in c for c in commands)
    port = free_port()
    env = {
        **os.environ,
        # The venv's own commands first, then those of the packages it shares (gunicorn, celery).
        "PATH": f"{venv / 'bin'}:{sysconfig.get_paths()['scripts']}:{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "DATABASE_URL": fresh_database,
        "SEGAPP_SECRET_KEY": "readme-production-test",
        "SEGAPP_ALLOWED_HOSTS": "127.0.0.1",
        "SEGAPP_VAR_DIR": str(tmp_path / "var"),
        # The sink is on this machine; the retry schedule is shortened to keep the test short.
        "SEGAPP_EGRESS_ALLOW_PRIVATE": "1",
        "SEGAPP_DISPATCH_INTERVAL": "1",
        "SEGAPP_DELIVERY_RETRY_BASE_DELAY": "1",
    }
    # Only what cannot run here as written: this machine's address, and fewer processes.
    local = {
        "--bind 0.0.0.0:8000": f"--bind 127.0.0.1:{port}",
        "--workers 4": "--workers 2",
        "--concurrency 8": "--concurrency 2",
    }
    sink = Sink()
    sink.replies = [Reply(500, body=b"down for maintenance")] * 20
    running = []
    try:
        for command in commands:
            for written, here in local.items():
                command = command.replace(written, here)
            if command.startswith(("gunicorn", "celery")):
                running.append(start(["bash", "-c", command], env))
            elif command.startswith("python manage.py bootstrap"):
                command = command.replace("--password …", "--password a-long-password-1")
                out = subprocess.run(["bash", "-c", command], env=env, cwd=REPO, check=True,
                                     capture_output=True, text=True).stdout  # fmt: skip
                token = json.loads(out.strip().splitlines()[-1])["api_token"]
            else:
                subprocess.run(["bash", "-c", command], env=env, cwd=REPO, check=True)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base), timeout=60, message="gunicorn to answer")
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"

        catalog = api.get(f"{base}/api/catalog/destinations?pagination.count=200").json()["data"]
        assert catalog["pagination"]["totalEntries"] >= 60  # loaded by migrate alone
        webhooks = next(d for d in catalog["destinationsCatalog"] if d["slug"] == "webhooks")
        sources = api.get(f"{base}/api/catalog/sources?pagination.count=200").json()["data"]
        javascript = next(s for s in sources["sourcesCatalog"] if s["slug"] == "javascript")
        source = api.post(f"{base}/api/sources", json={"slug": "site", "enabled": True,
                          "metadataId": javascript["id"]}).json()["data"]["source"]  # fmt: skip
        created = api.post(f"{base}/api/destinations", json={
            "sourceId": source["id"], "metadataId": webhooks["id"], "enabled": True,
            "settings": {"webhookUrls": [f"{sink.url}/hook"]}})  # fmt: skip
        assert created.ok, created.text

        sent = [f"m-{n}" for n in range(20)]
        for half in (sent[:10], sent[10:]):
            body = {"writeKey": source["writeKeys"][0], "batch": [
                {"type": "track", "event": "Signed Up", "userId": "u", "messageId": m} for m in half]}  # fmt: skip
            assert requests.post(f"{base}/v1/batch", data=orjson.dumps(body), timeout=10).ok

        def delivered():
            return [orjson.loads(r.body)["messageId"] for r in sink.received[20:]]

        wait_for(lambda: len(delivered()) >= 20, timeout=120, message="every event retried")
        assert len(sink.received[:20]) == 20  # the 500s were real attempts
        wait_for(lambda: _ready(base), timeout=30, message="/readyz to pass")
        assert Counter(delivered()) == Counter(sent)  # each once, none lost
    finally:
        for proc, _ in running:
            stop(proc, sig=15)
        sink.close()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).ok
    except requests.ConnectionError:
        return False


def _ready(base: str) -> bool:
    return requests.get(f"{base}/readyz", timeout=10).status_code == 200
