"""Files of the embedded default, readable by the account that runs Segapp and nobody else.

``var/`` holds the secret key, the SQLite database (sessions, encrypted destination credentials)
and the broker's messages. Modes are set whatever the umask, and set again at every start, so an
installation whose files an older version left readable is closed on its next start.
"""

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)  # mkdir's mode is cut by the umask, and ignored if the folder exists
    return path


def private_file(path: Path) -> Path:
    """Creates ``path`` empty unless it exists, owner-only either way (an empty file is also an
    empty SQLite database, and SQLite gives its -wal and -shm files the database file's mode)."""
    # Created with its final mode, so there is no moment when another account may open it.
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    path.chmod(FILE_MODE)
    return path


def private_siblings(path: Path, suffixes: tuple[str, ...]) -> None:
    """Owner-only modes for ``path`` + each suffix that exists (SQLite's -wal and -shm files)."""
    for suffix in suffixes:
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            sibling.chmod(FILE_MODE)
