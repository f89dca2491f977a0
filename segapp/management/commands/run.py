"""The embedded default in one command: prepare the database, then run the console, the tracking
API (gunicorn) and a real Celery worker, which also runs the periodic sweeps, until Ctrl-C. A child
that exits is started again; Ctrl-C or SIGTERM stops them all gracefully."""

import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from segapp.env import env_int
from segapp.management.commands.bootstrap import ensure_owner
from segapp.models import Plan, User
from segapp.private_files import private_file

DEMO_EMAIL = "demo@segapp.local"
DEMO_WORKSPACE = "Demo"


def demo_password() -> tuple[str, bool]:
    """Chosen at random on the first run and kept under var/, so the demo login stays the same;
    and whether it was chosen just now."""
    path = settings.VAR_DIR / "demo-login.json"
    if path.exists():
        return json.loads(path.read_text())["password"], False
    password = secrets.token_urlsafe(12)
    private_file(path).write_text(json.dumps({"email": DEMO_EMAIL, "password": password}))
    return password, True


def ensure_demo_account() -> str:
    """The demo user and workspace. The password is set only with a new user or a new password
    file: setting it on every start would sign everyone out. No API token is made here (nobody
    would see it); ``manage.py bootstrap`` prints one."""
    password, chosen_now = demo_password()
    is_new = not User.objects.filter(email=DEMO_EMAIL).exists()
    ensure_owner(
        DEMO_WORKSPACE, DEMO_EMAIL, Plan.BUSINESS, password if is_new or chosen_now else None
    )
    return password


def _die_with_parent():
    """In the child: if ``run`` itself is killed, Linux sends the child SIGTERM (PR_SET_DEATHSIG),
    so no web or worker process outlives it."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)


@dataclass
class Child:
    name: str
    args: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    delay: float = 0.0
    restart_at: float = 0.0


class Supervisor:
    """Keeps named child processes running: one that exits is started again after a delay that
    doubles from 1 s to 30 s, and is back to 1 s once a run lasted a minute."""

    FIRST_DELAY = 1.0
    MAX_DELAY = 30.0
    STABLE_AFTER = 60.0
    STOP_TIMEOUT = 30.0

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str], say):
        self.children = [
            Child(name, args, delay=self.FIRST_DELAY) for name, args in commands.items()
        ]
        self.env = env
        self.say = say

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def check(self) -> None:
        """Notices children that exited and starts those whose delay is over."""
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                if now >= child.restart_at:
                    self._spawn(child)
            elif child.process.poll() is not None:
                self._schedule_restart(child, now)

    def stop(self) -> None:
        """SIGTERM to each child: gunicorn finishes its requests, the Celery worker its tasks (a
        warm shutdown). What is still running after STOP_TIMEOUT is killed; the database knows
        which work was not finished, and the sweeps send it again."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + self.STOP_TIMEOUT
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self, child: Child) -> None:
        # Its own process group, so Ctrl-C reaches only run, which then stops the children in order.
        child.process = subprocess.Popen(
            child.args, env=self.env, process_group=0, preexec_fn=_die_with_parent
        )
        child.started_at = time.monotonic()
        self.say(f"{child.name} started (pid {child.process.pid})")

    def _schedule_restart(self, child: Child, now: float) -> None:
        if now - child.started_at >= self.STABLE_AFTER:
            child.delay = self.FIRST_DELAY
        code, pid = child.process.returncode, child.process.pid
        self.say(
            f"{child.name} (pid {pid}) exited with code {code}; restarting in {child.delay:g}s"
        )
        child.process, child.restart_at = None, now + child.delay
        child.delay = min(child.delay * 2, self.MAX_DELAY)


class Command(BaseCommand):
    help = "Run Segapp on this machine: web console, tracking API and a Celery worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=env_int("SEGAPP_PORT", 8000))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")

    def handle(self, *args, host, port, web_workers, concurrency, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        password = ensure_demo_account()

        supervisor = Supervisor(
            self._commands(host, port, web_workers, concurrency), self._env(), self._say
        )
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        url = f"http://{host}:{port}/"
        deadline, announced = time.monotonic() + 60, False
        supervisor.start()
        try:
            while not stop["now"]:
                supervisor.check()
                if not announced and self._is_serving(url):
                    announced = True
                    self.stdout.write(
                        f"\nSegapp is running at {url}\n"
                        f"  sign in as {DEMO_EMAIL} / {password}\n"
                        f"  data under {settings.VAR_DIR}; press Ctrl-C to stop\n"
                    )
                    self.stdout.flush()
                elif not announced and time.monotonic() > deadline:
                    raise SystemExit(
                        f"Segapp did not answer on {url} within 60s; see the log above."
                    )
                time.sleep(0.5)
            self._say("stopping")
        finally:
            supervisor.stop()

    def _say(self, line: str) -> None:
        self.stdout.write(f"segapp run: {line}")
        self.stdout.flush()

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # One metrics folder for the web and worker processes, so /metrics adds them all up; a
        # fresh one each start (the files of processes that are gone would count twice).
        metrics = settings.VAR_DIR / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(mode=0o700)
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics))
        return env

    def _commands(self, host, port, web_workers, concurrency) -> dict[str, list[str]]:
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        python = sys.executable
        return {
            "web": [python, "-m", "gunicorn", "segapp.wsgi", "--bind", bind,
                    "--workers", str(web_workers)],
            "worker": [python, "-m", "celery", "-A", "segapp", "worker",
                       "--concurrency", str(concurrency), "--loglevel", "INFO"],
        }  # fmt: skip

    def _is_serving(self, url: str) -> bool:
        try:
            urllib.request.urlopen(url + "signin/", timeout=2).close()
            return True
        except OSError:
            return False
