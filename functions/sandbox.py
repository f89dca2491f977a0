"""Runs customer JavaScript functions (Segment's handler model) with limits and no host access.

    outcome = run(code, "onTrack", [event, settings], fetch=transport, limits=Limits())

``run`` hands the job to this worker's sandbox process (functions/engine.py), where it runs in a
fresh V8 isolate, and serves what the function asks for: each fetch goes through ``fetch``, the
caller's transport, and each timer is waited out here. The sandbox is busy only between our
answers, and that time is what the CPU limit counts; the wall-clock cap counts everything.

Why a process: a runaway builtin (``new Array(3e8).fill(0)``) can ignore V8's termination for
seconds, and growing past V8's heap ceiling aborts the whole process. So a sandbox process that
passes a limit, or dies, is killed and replaced, and the caller gets a Failure naming the limit.
A function that passes none keeps the process; its isolate is never reused.
"""

import base64
import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from functions import wire
from functions.outcome import Exceeded, LogLine, Outcome, exceeded, thrown
from functions.transport import FetchFailed, FetchRequest, FetchResponse, record

KB = 1024
MB = 1024 * KB


@dataclass(frozen=True)
class Limits:
    # JavaScript running, its isolate's start-up included; waits on fetches and timers are not.
    cpu_seconds: float = 1.0
    wall_seconds: float = 10.0  # the whole invocation
    memory_bytes: int = 64 * MB  # V8's heap
    process_bytes: int = 512 * MB  # the sandbox process, which also holds typed arrays' bytes
    fetches: int = 20
    response_bytes: int = 1 * MB  # of each response body, read into the function
    record_bytes: int = 4 * KB  # of each body, kept in Outcome.exchanges
    log_lines: int = 100
    log_chars: int = 2000  # per line


Fetch = Callable[[FetchRequest], FetchResponse]
HANDLER_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# How often a busy sandbox's memory is looked at; replies are read as soon as they come.
WATCH_INTERVAL = 0.02
STARTUP_SECONDS = 30
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
ROOT = Path(__file__).resolve().parent.parent
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from functions import engine; engine.main(int(sys.argv[2]))"

_lock = threading.Lock()  # one sandbox process per worker process, one invocation at a time
_sandbox = None


def run(code: str, handler: str, args: list, *, fetch: Fetch, limits: Limits = Limits()) -> Outcome:
    if not HANDLER_NAME.fullmatch(handler):
        raise ValueError(f"not a handler name: {handler!r}")
    job = {
        "type": "run",
        "code": code,
        "handler": handler,
        "args": json.dumps(args),
        "limits": {
            "memory_bytes": limits.memory_bytes,
            "fetches": limits.fetches,
            "log_lines": limits.log_lines,
            "log_chars": limits.log_chars,
        },
    }
    global _sandbox
    with _lock:
        if _sandbox is None or not _sandbox.is_usable():
            _sandbox = SandboxProcess()
        return Invocation(_sandbox, fetch, limits).run(job)


class SandboxProcess:
    def __init__(self):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", BOOT, str(ROOT), str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env={},  # nothing of the worker's environment, secrets included
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        theirs.close()
        self.channel = ours
        self.owner = os.getpid()  # a forked worker starts its own
        ready, _, _ = select.select([ours], [], [], STARTUP_SECONDS)
        if not ready or wire.receive(ours) != {"type": "ready"}:
            self.kill()
            raise RuntimeError("the functions sandbox process did not start")

    def is_usable(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def send(self, message: dict) -> None:
        wire.send(self.channel, message)

    def has_message(self, timeout: float) -> bool:
        return bool(select.select([self.channel], [], [], max(0.0, timeout))[0])

    def receive(self) -> dict | None:
        return wire.receive(self.channel)

    def memory(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as statm:
                return int(statm.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            return 0  # no procfs: the V8 heap limit still holds

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.channel.close()


class Stopped(Exception):
    def __init__(self, limit: Exceeded, detail: str):
        self.limit = limit
        self.detail = detail


class Invocation:
    def __init__(self, sandbox: SandboxProcess, fetch: Fetch, limits: Limits):
        self.sandbox = sandbox
        self.fetch = fetch
        self.limits = limits
        self.outcome = Outcome()

    def run(self, job: dict) -> Outcome:
        self.started = time.monotonic()
        self.deadline = self.started + self.limits.wall_seconds
        try:
            self.sandbox.send(job)
            while (message := self.next_message())["type"] != "done":
                if message["type"] == "fetch":
                    self.sandbox.send(self.exchange(message["request"]))
                else:
                    self.wait(message["seconds"])
                    self.sandbox.send({"type": "resume"})
            self.finish(message)
        except Stopped as stopped:
            self.sandbox.kill()
            self.outcome.error = exceeded(stopped.limit, stopped.detail)
        except BaseException:
            self.sandbox.kill()  # it is mid-invocation, waiting on us
            raise
        self.outcome.wall_seconds = round(time.monotonic() - self.started, 4)
        self.outcome.cpu_seconds = round(self.outcome.cpu_seconds, 4)
        return self.outcome

    def next_message(self) -> dict:
        """The sandbox's next message, timed as JavaScript running."""
        began = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                cpu_left = self.limits.cpu_seconds - self.outcome.cpu_seconds - (now - began)
                wall_left = self.deadline - now
                if cpu_left <= 0:
                    raise Stopped(
                        Exceeded.CPU_TIME,
                        f"Ran past its CPU time limit ({self.limits.cpu_seconds:g} s).",
                    )
                if wall_left <= 0:
                    raise self.past_deadline()
                if self.sandbox.has_message(min(cpu_left, wall_left, WATCH_INTERVAL)):
                    break
                if self.sandbox.memory() > self.limits.process_bytes:
                    raise Stopped(
                        Exceeded.MEMORY, f"Used more than {self.limits.process_bytes // MB} MB."
                    )
            message = self.sandbox.receive()
        finally:
            self.outcome.cpu_seconds += time.monotonic() - began
        if message is None:
            status = self.sandbox.process.wait()
            if status >= 0:  # it exited: a fault of ours, reported on its stderr
                raise RuntimeError(f"the functions sandbox process exited with status {status}")
            # Killed by a signal: V8 aborts a process whose heap cannot grow (SIGTRAP), and
            # the kernel's OOM killer sends SIGKILL.
            raise Stopped(
                Exceeded.MEMORY, f"Ran out of memory (the sandbox ended by signal {-status})."
            )
        self.outcome.logs += [LogLine(line["level"], line["message"]) for line in message["logs"]]
        self.outcome.logs_dropped = message["dropped"]
        return message

    def exchange(self, sent: dict) -> dict:
        """Sends one of the function's requests through the caller's transport."""
        request = FetchRequest(
            method=sent["method"],
            url=sent["url"],
            headers=dict(sent["headers"]),
            body=None if sent["body"] is None else base64.b64decode(sent["body"]),
            timeout=max(0.0, self.deadline - time.monotonic()),
            max_bytes=self.limits.response_bytes,
        )
        began = time.monotonic()
        response, error = None, None
        try:
            response = self.fetch(request)
        except FetchFailed as failed:
            error = failed.reason
            reply = {"error": failed.reason, "code": failed.code}
        else:
            body = response.body
            reply = {
                "status": response.status,
                "statusText": response.reason,
                "headers": [[str(k), str(v)] for k, v in response.headers.items()],
                "body": base64.b64encode(body[: request.max_bytes]).decode(),
                "truncated": len(body) > request.max_bytes,
            }
        self.outcome.exchanges.append(
            record(request, response, error, time.monotonic() - began, self.limits.record_bytes)
        )
        if time.monotonic() >= self.deadline:
            raise self.past_deadline()
        return {"type": "reply", **reply}

    def wait(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))
        if time.monotonic() >= self.deadline:
            raise self.past_deadline()

    def past_deadline(self) -> Stopped:
        return Stopped(
            Exceeded.WALL_TIME, f"Ran past its time limit ({self.limits.wall_seconds:g} s)."
        )

    def finish(self, message: dict) -> None:
        outcome = self.outcome
        outcome.missing_handler = message.get("missing_handler", False)
        if message.get("exceeded") == "memory":
            outcome.error = exceeded(
                Exceeded.MEMORY, f"Used more than {self.limits.memory_bytes // MB} MB of heap."
            )
        elif message.get("error"):
            outcome.error = thrown(message["error"])
        elif message.get("value") is not None:
            outcome.value = json.loads(message["value"])
