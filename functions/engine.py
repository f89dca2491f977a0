"""The sandbox process: runs one invocation at a time, each in a fresh V8 isolate.

A worker (functions/sandbox.py) starts this process and sends it jobs. For every fetch and
every timer the function waits on, this process asks the worker and blocks until it answers,
so the worker can tell the time JavaScript runs from the time it waits, and can kill this
process when a limit is passed. This module imports nothing of Django's or the project's apps:
it runs with an empty environment, and the function can reach nothing but its arguments.
"""

import json
import re
import socket
import sys
from pathlib import Path

from py_mini_racer import JSEvalException, JSOOMException, MiniRacer

from functions import wire
from functions.outcome import SOURCE_NAME

PRELUDE = Path(__file__).with_name("prelude")
# Order matters: each file uses what the ones before it define.
PRELUDE_FILES = [
    "encoding.js",
    "errors.js",
    "console.js",
    "crypto.js",
    "search_params.js",
    "url.js",
    "fetch.js",
    "timers.js",
    "invocation.js",
]
# One scope for all of them, so their helpers stay out of the function's globals.
PRELUDE_WRAPPER = """(function (define) {
'use strict';
%s
})(function define(name, value) {
  const own = Object.getOwnPropertyDescriptor(globalThis, name);
  if (own && !own.configurable) globalThis[name] = value;
  else Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
});
//# sourceURL=prelude.js"""
# V8's message for an error while loading a script: "function.js:3: SyntaxError: Unexpected…".
LOAD_ERROR = re.compile(r"^" + re.escape(SOURCE_NAME) + r":(\d+): (\w+): (.*)$", re.MULTILINE)
NEVER_SETTLES = "The handler's promise never settled, and there is nothing left to wait for."


class MemoryExceeded(Exception):
    pass


class RuntimeBroken(Exception):
    """The prelude's report made no sense: the function tampered with what it relies on."""


def main(fd: int) -> None:
    _die_with_parent()
    channel = socket.socket(fileno=fd)
    prelude = PRELUDE_WRAPPER % "\n".join((PRELUDE / name).read_text() for name in PRELUDE_FILES)
    MiniRacer().close()  # V8 starts up once, before any job's clock runs
    wire.send(channel, {"type": "ready"})
    while (job := wire.receive(channel)) is not None:
        wire.send(channel, Invocation(channel, job).run(prelude))


class Invocation:
    def __init__(self, channel: socket.socket, job: dict):
        self.channel = channel
        self.job = job
        self.logs: list[dict] = []
        self.dropped = 0

    def run(self, prelude: str) -> dict:
        with MiniRacer() as js:
            self.js = js
            limit = self.job["limits"]["memory_bytes"]
            js.set_hard_memory_limit(limit)
            js.set_soft_memory_limit(limit * 3 // 4)  # collect harder before stopping
            try:
                self.eval(f"{prelude}\n__segapp.configure({json.dumps(self.job['limits'])})")
                return self.drive()
            except MemoryExceeded:
                return self.done(exceeded="memory")
            except (RuntimeBroken, JSEvalException) as broken:
                # Only the function's own tampering (with Array.prototype, say) makes the
                # prelude's calls fail: its invocation fails, the process serves the next.
                return self.done(error={"name": "Error", "message": _broken(broken)})

    def drive(self) -> dict:
        try:
            self.eval(f"{self.job['code']}\n//# sourceURL={SOURCE_NAME}")
        except JSEvalException as error:
            self.poll()  # what it logged before failing
            return self.done(error=_load_error(str(error), self.job["code"].count("\n") + 1))
        handler, args = self.job["handler"], json.dumps(self.job["args"])
        if not self.eval(
            f"typeof {handler} === 'function' && (__segapp.start({handler}, {args}), true)"
        ):
            return self.done(missing_handler=True)
        while True:
            state = self.poll()
            if state["done"]:
                return self.done(value=state["value"], error=state["error"])
            if state["fetches"]:
                for request in state["fetches"]:
                    reply = self.ask({"type": "fetch", "request": request})
                    self.eval(
                        f"__segapp.settle({int(request['id'])}, {json.dumps(json.dumps(reply))})"
                    )
            elif state["wait"] is not None:
                self.ask({"type": "wait", "seconds": state["wait"] / 1000})
                self.eval("__segapp.tick()")
            else:
                return self.done(error={"name": "Error", "message": NEVER_SETTLES})

    def eval(self, code: str):
        try:
            result = self.js.eval(code)
        except JSOOMException:
            raise MemoryExceeded from None
        except JSEvalException:
            if self.js.was_hard_memory_limit_reached():
                raise MemoryExceeded from None
            raise
        # The limit may have stopped promise callbacks that ran after the call returned.
        if self.js.was_hard_memory_limit_reached():
            raise MemoryExceeded
        return result

    def poll(self) -> dict:
        try:
            state = json.loads(self.eval("__segapp.poll()"))
            self.logs += state["logs"]
            self.dropped = state["dropped"]
            return state
        except (JSEvalException, TypeError, ValueError, KeyError) as error:
            raise RuntimeBroken(error) from None

    def ask(self, message: dict) -> dict:
        """Sends the worker a request, with the lines logged since the last one; waits for it."""
        wire.send(self.channel, {**message, "logs": self.logs, "dropped": self.dropped})
        self.logs = []
        answer = wire.receive(self.channel)
        if answer is None:
            sys.exit(0)  # the worker has gone
        return answer

    def done(self, **result) -> dict:
        return {"type": "done", "logs": self.logs, "dropped": self.dropped, **result}


def _broken(error: Exception) -> str:
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"The function broke the sandbox's runtime: {detail}"


def _load_error(text: str, lines: int) -> dict:
    match = LOAD_ERROR.search(text)
    if not match:
        return {"name": "Error", "message": text.splitlines()[0] if text else "", "stack": text}
    line, name, message = match.groups()
    # "Unexpected end of input" falls on the line we add after the customer's last.
    return {"name": name, "message": message, "line": min(int(line), lines), "stack": text}


def _die_with_parent() -> None:
    """Linux: be killed with the worker, rather than spin on in a runaway loop as an orphan."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
