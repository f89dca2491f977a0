"""A task sent by the web process runs in a separate Celery worker process, on both deployment
shapes: the embedded default (README's run command) and PostgreSQL + Redis."""

import os
import re

import pytest
from django.conf import settings

from segapp.models import WorkerPing
from tests.factories import PASSWORD
from tests.processes import (
    REPO,
    command_line,
    free_port,
    parent_pid,
    post_form,
    sign_in,
    start,
    start_worker,
    stop,
    wait_for,
)


def readme_run_command() -> str:
    """README's first command, exactly as a newcomer would paste it."""
    readme = (REPO / "README.md").read_text()
    return re.search(r"<!-- run-command -->\s*```(?:sh|bash)?\n(.+?)\n```", readme, re.S).group(1)


def ping_worker(session, base_url, workspace_slug) -> tuple[int, int]:
    post_form(session, f"{base_url}/w/{workspace_slug}/settings/system/ping/").raise_for_status()

    def answered():
        page = session.get(f"{base_url}/w/{workspace_slug}/settings/system/", timeout=10).text
        return re.search(r'data-handled-pid="(\d+)" data-requested-pid="(\d+)"', page)

    match = wait_for(answered, timeout=60, interval=0.3, message="a worker to answer the ping")
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow
def test_readme_run_command_serves_sign_in_and_runs_tasks_in_a_worker(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SEGAPP_SECRET_KEY")
    }
    env.update(SEGAPP_VAR_DIR=str(tmp_path), SEGAPP_PORT=str(free_port()))
    proc, output = start(["bash", "-c", readme_run_command()], env)
    try:
        match = output.wait_for_match(r"running at (http://\S+)/", timeout=240)
        base_url = match.group(1)
        email, password = output.wait_for_match(r"sign in as (\S+) / (\S+)", timeout=5).groups()
        session = sign_in(base_url, email, password)
        assert "Demo" in session.get(f"{base_url}/", timeout=10).text
        assert (tmp_path / "segapp.sqlite3").exists() and (tmp_path / "broker").is_dir()

        handled_pid, requested_pid = ping_worker(session, base_url, "demo")
        assert handled_pid != requested_pid
        assert "gunicorn" in command_line(requested_pid)
        assert "celery" in command_line(handled_pid) and "worker" in command_line(handled_pid)
    finally:
        assert stop(proc) == 0, "".join(output.lines[-40:])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_task_sent_by_web_process_runs_in_worker_on_redis(live_server, workspace, owner):
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run the suite through .ci/run"
    worker, output = start_worker(settings.CELERY_BROKER_URL)
    try:
        session = sign_in(live_server.url, owner.email, PASSWORD)
        handled_pid, requested_pid = ping_worker(session, live_server.url, workspace.slug)
        assert requested_pid == os.getpid()  # the live server answers from this test process
        assert parent_pid(handled_pid) == worker.pid  # a pool process of the worker we started
        assert WorkerPing.objects.get().handled_by_pid == handled_pid
    except AssertionError:
        print("".join(output.lines[-60:]))  # the worker's log explains a missing answer
        raise
    finally:
        stop(worker, sig=15)
