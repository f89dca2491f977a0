"""CPU time each kind of process on this machine spends while a block of a benchmark runs:
Segapp's worker, gunicorn, PostgreSQL, nginx, Redis, the benchmark itself, the kernel's own
threads. On a box where all of them share two cores, it says which one an event's time goes to.

Read from ``/proc`` (Linux), every process, several times a second: a process that ends during
the block (a PostgreSQL backend of a closed connection) counts up to its last reading.
"""

import os
import threading
from collections import Counter

TICKS = os.sysconf("SC_CLK_TCK")
KINDS = (  # the first match in a process's command line names its kind
    ("celery", "worker"),
    ("gunicorn", "gunicorn"),
    ("postgres", "postgresql"),
    ("nginx", "nginx"),
    ("redis-server", "redis"),
    ("delivery.py", "benchmark"),
    ("replay.py", "benchmark"),
    ("multiprocessing", "benchmark"),
)


def _kind(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if not command:
        return "kernel"
    return next((kind for needle, kind in KINDS if needle in command), "other")


def _readings() -> dict[str, float]:
    """{pid: CPU seconds so far} of every process."""
    seconds = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    return seconds


class CpuShare:
    """``with CpuShare() as cpu:`` … then ``cpu.seconds``: {kind: CPU seconds in the block}."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.seconds: Counter = Counter()
        self._stop = threading.Event()

    def __enter__(self):
        self._start = _readings()
        self._last = dict(self._start)
        self._kinds = {pid: _kind(pid) for pid in self._start}
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._read()

    def _read(self) -> None:
        for pid, seconds in _readings().items():
            if pid not in self._kinds:
                self._kinds[pid] = _kind(pid)
                self._start.setdefault(pid, 0.0)
            self._last[pid] = max(self._last.get(pid, 0.0), seconds)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._read()
        for pid, seconds in self._last.items():
            self.seconds[self._kinds[pid]] += seconds - self._start.get(pid, 0.0)
        return False

    def per(self, count: int, unit: str = "delivery") -> str:
        """The block's CPU per ``unit``, by kind, busiest first."""
        parts = [
            f"{kind} {seconds * 1e6 / count:,.0f} µs"
            for kind, seconds in self.seconds.most_common()
            if seconds * 1e6 / count >= 1
        ]
        total = sum(self.seconds.values()) * 1e6 / count
        return f"CPU per {unit}: {total:,.0f} µs = " + ", ".join(parts)

    def cores(self, seconds: float) -> str:
        """Cores kept busy over a block of ``seconds``, by kind, busiest first."""
        parts = [
            f"{kind} {busy / seconds:.2f}"
            for kind, busy in self.seconds.most_common()
            if busy / seconds >= 0.01
        ]
        total = sum(self.seconds.values()) / seconds
        return f"{total:.2f} of {os.cpu_count()} cores busy: " + ", ".join(parts)
