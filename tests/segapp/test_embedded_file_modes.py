"""The embedded default's files hold the secret key, sessions and destination credentials: only
the account that runs Segapp may read them."""

import os
import stat
import subprocess
import sys

import pytest

from tests.processes import REPO


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def migrate(var_dir, **extra):
    unset = ("DATABASE_URL", "CELERY_BROKER_URL", "SEGAPP_SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(SEGAPP_VAR_DIR=str(var_dir), **extra)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=REPO, env=env, check=True, timeout=300, capture_output=True,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask, whatever the test runner's
    )  # fmt: skip


@pytest.mark.slow
def test_embedded_files_are_private_to_their_owner(tmp_path):
    var_dir = tmp_path / "var"
    migrate(var_dir)
    assert mode(var_dir) == 0o700
    assert mode(var_dir / "secret_key") == 0o600
    assert mode(var_dir / "broker") == 0o700
    for sub in ("queue", "processed", "control"):
        assert mode(var_dir / "broker" / sub) == 0o700, sub
    databases = [p for p in var_dir.iterdir() if p.name.startswith("segapp.sqlite3")]
    assert var_dir / "segapp.sqlite3" in databases
    for path in databases:
        assert mode(path) == 0o600, path.name


@pytest.mark.slow
def test_files_made_readable_by_an_older_version_are_closed_again(tmp_path):
    var_dir = tmp_path / "var"
    migrate(var_dir)
    for path in [var_dir, var_dir / "broker"]:
        path.chmod(0o755)
    for path in var_dir.iterdir():
        if path.is_file():
            path.chmod(0o644)
    migrate(var_dir)
    assert mode(var_dir) == 0o700 and mode(var_dir / "broker") == 0o700
    assert mode(var_dir / "segapp.sqlite3") == 0o600
    assert mode(var_dir / "secret_key") == 0o600
