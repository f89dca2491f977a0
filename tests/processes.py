"""Real processes for tests: the product's run command, Celery workers, HTTP sign-in."""

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from django.db import connection

from tests.sinks import SINK_HOSTS

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message}")


class OutputReader:
    """Collects a process's output lines on a thread so its pipe never fills up."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self.lines.append(line)
            self._queue.put(line)

    def wait_for_match(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"No line matched {pattern!r}; output:\n{''.join(self.lines[-60:])}")


def start(args, env, cwd=REPO) -> tuple[subprocess.Popen, OutputReader]:
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return proc, OutputReader(proc.stdout)


def stop(proc: subprocess.Popen, sig=2, timeout: float = 30) -> int:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)
    return proc.returncode


def test_database_url() -> str:
    """The URL of the database this test runs on, for processes started by the test."""
    s = connection.settings_dict
    assert s["ENGINE"].endswith("postgresql"), "process tests run on PostgreSQL (see .ci/run)"
    user = s["USER"] or "postgres"
    auth = f"{user}:{s['PASSWORD']}" if s["PASSWORD"] else user
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(broker_url: str, concurrency: int = 1, extra_env=None):
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "SEGAPP_ENDPOINT_EXTRA_HOSTS": SINK_HOSTS,
        **(extra_env or {}),
    }
    return start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "segapp",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        env,
    )


def sign_in(base_url: str, email: str, password: str) -> requests.Session:
    """Signs in through the real sign-in form, CSRF and all."""
    session = requests.Session()
    session.get(f"{base_url}/signin/", timeout=10).raise_for_status()
    response = session.post(
        f"{base_url}/signin/",
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base_url}/signin/"},
        timeout=10,
    )
    response.raise_for_status()
    assert "/signin/" not in response.url, "sign-in was refused"
    return session


def post_form(session: requests.Session, url: str, data=None) -> requests.Response:
    data = {**(data or {}), "csrfmiddlewaretoken": session.cookies["csrftoken"]}
    return session.post(url, data=data, headers={"Referer": url}, timeout=10)


def parent_pid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
