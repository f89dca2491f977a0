"""A function reaches nothing but its arguments: no modules, no process, no files, and nothing
left behind by another invocation."""

import os
from textwrap import dedent

import pytest

from functions import sandbox
from functions.sandbox import run


@pytest.mark.parametrize(
    ("expression", "name", "message"),
    [
        ("require('fs')", "ReferenceError", "require is not defined"),
        ("process.env.SEGAPP_SECRET_KEY", "ReferenceError", "process is not defined"),
        ("module.exports", "ReferenceError", "module is not defined"),
        ("await import('fs')", "Error", "Not supported"),
        ("await import('./function.js')", "Error", "Not supported"),
        ("new WebAssembly.Memory({ initial: 1 })", "ReferenceError", "WebAssembly is not defined"),
        (
            "Atomics.waitAsync(new Int32Array(1), 0, 0)",
            "TypeError",
            "Atomics.waitAsync is not a function",
        ),
    ],
)
def test_the_host_is_out_of_reach(expression, name, message, transport):
    outcome = run(
        f"async function onTrack() {{ return {expression} }}", "onTrack", [], fetch=transport
    )

    assert (outcome.error.name, outcome.error.message) == (name, message)
    assert outcome.value is None


def test_an_invocation_sees_nothing_an_earlier_one_left(transport):
    polluter = dedent("""\
        var cached = 'workspace A secret'
        async function onTrack(event, settings) {
          globalThis.token = settings.apiKey
          Object.prototype.polluted = true
          JSON.parse = () => 'hijacked'
          console.log = () => {}
          return 'done'
        }
        """)
    observer = dedent("""\
        async function onTrack() {
          console.log('still logging')
          return [typeof cached, typeof token, ({}).polluted, JSON.parse('[1]')]
        }
        """)

    assert run(polluter, "onTrack", [{}, {"apiKey": "A-key"}], fetch=transport).value == "done"
    outcome = run(observer, "onTrack", [{}, {}], fetch=transport)

    assert outcome.value == ["undefined", "undefined", None, [1]]
    assert [line.message for line in outcome.logs] == ["still logging"]


def test_the_same_code_starts_afresh_each_time(transport):
    code = "let calls = 0\nasync function onTrack() { calls += 1; globalThis.seen = (globalThis.seen || 0) + 1; return [calls, seen] }"

    assert [run(code, "onTrack", [], fetch=transport).value for _ in range(3)] == [[1, 1]] * 3


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="reads /proc")
def test_the_sandbox_process_has_none_of_the_workers_environment(transport):
    run("async function onTrack() {}", "onTrack", [], fetch=transport)

    with open(f"/proc/{sandbox._sandbox.process.pid}/environ", "rb") as environ:
        assert environ.read() == b""
    assert os.environ.get("SEGAPP_SECRET_KEY")  # the worker has secrets to keep


def test_a_function_that_breaks_the_runtime_fails_alone(transport):
    code = "async function onTrack() { Array.prototype.slice = () => { throw new Error('gone') } }"

    outcome = run(code, "onTrack", [], fetch=transport)

    assert outcome.error.message.startswith("The function broke the sandbox's runtime")
    assert outcome.error.exceeded is None
    assert run(
        "async function onTrack() { return [1, 2].slice(1) }", "onTrack", [], fetch=transport
    ).value == [2]
