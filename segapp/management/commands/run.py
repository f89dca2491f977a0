"""The embedded default in one command: prepare the database, then run the console, the tracking
API (gunicorn) and a real Celery worker, which also runs the periodic sweeps, until Ctrl-C."""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from segapp.env import env_int
from segapp.management.commands.bootstrap import bootstrap
from segapp.models import Plan
from segapp.private_files import private_file

DEMO_EMAIL = "demo@segapp.local"
DEMO_WORKSPACE = "Demo"


def demo_password() -> str:
    """Chosen at random on the first run and kept under var/, so the demo login stays the same."""
    path = settings.VAR_DIR / "demo-login.json"
    if path.exists():
        return json.loads(path.read_text())["password"]
    password = secrets.token_urlsafe(12)
    private_file(path).write_text(json.dumps({"email": DEMO_EMAIL, "password": password}))
    return password


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
        password = demo_password()
        bootstrap(DEMO_WORKSPACE, DEMO_EMAIL, password, Plan.BUSINESS)

        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # One metrics folder for the web and worker processes, so /metrics adds them all up; a
        # fresh one each start (the files of processes that are gone would count twice).
        metrics = settings.VAR_DIR / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(mode=0o700)
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics))
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "segapp.wsgi",
                    "--bind",
                    bind,
                    "--workers",
                    str(web_workers),
                ],
                env=env,
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "segapp",
                    "worker",
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "INFO",
                ],
                env=env,
            ),
        ]
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        url = f"http://{host}:{port}/"
        try:
            self._wait_until_serving(url, children, stop)
            if not stop["now"]:
                self.stdout.write(
                    f"\nSegapp is running at {url}\n"
                    f"  sign in as {DEMO_EMAIL} / {password}\n"
                    f"  data under {settings.VAR_DIR}; press Ctrl-C to stop\n"
                )
                self.stdout.flush()
            while not stop["now"] and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            self._stop(children)

    def _stop(self, children):
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()

    def _wait_until_serving(self, url, children, stop, timeout=60):
        deadline = time.monotonic() + timeout
        while not stop["now"] and time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise SystemExit("A Segapp process exited during start-up; see the log above.")
            try:
                urllib.request.urlopen(url + "signin/", timeout=2).close()
                return
            except OSError:
                time.sleep(0.3)
        if not stop["now"]:
            raise SystemExit(f"Segapp did not answer on {url} within {timeout}s.")
