"""A function that runs too long or allocates too much is stopped, reported by the limit it
passed, and the next invocation runs normally."""

import time
from textwrap import dedent

import pytest

from functions.outcome import Exceeded
from functions.sandbox import Limits, run

ECHO = "async function onTrack(event) { return event }"


def runs_normally_after(transport):
    return run(ECHO, "onTrack", [{"event": "next"}], fetch=transport).value == {"event": "next"}


@pytest.mark.parametrize(
    "code",
    [
        "async function onTrack() { while (true) {} }",
        # After an await, the loop runs in V8's promise jobs, outside any one call into V8.
        "async function onTrack() { await null; while (true) {} }",
    ],
)
def test_an_infinite_loop_is_stopped_at_the_cpu_limit(code, transport):
    started = time.monotonic()
    outcome = run(code, "onTrack", [], fetch=transport, limits=Limits(cpu_seconds=0.3))
    elapsed = time.monotonic() - started

    assert outcome.error.exceeded is Exceeded.CPU_TIME
    assert outcome.error.name == "TimeLimitExceeded"
    assert 0.3 <= elapsed < 1.0
    assert runs_normally_after(transport)


@pytest.mark.parametrize(
    "code",
    [
        "async function onTrack() { const a = []; while (true) a.push({ n: a.length }) }",
        "async function onTrack() { await null; let s = []; while (true) s.push('x'.repeat(1000) + s.length) }",
    ],
)
def test_a_heap_bomb_is_stopped_at_the_memory_limit(code, transport):
    outcome = run(
        code, "onTrack", [], fetch=transport, limits=Limits(memory_bytes=32 * 1024 * 1024)
    )

    assert outcome.error.exceeded is Exceeded.MEMORY
    assert outcome.error.name == "MemoryLimitExceeded"
    assert runs_normally_after(transport)


def test_bytes_outside_the_heap_count_against_the_process_limit(transport):
    # A typed array's bytes are outside V8's heap, where its own limit does not look.
    code = (
        "async function onTrack() { const b = new Uint8Array(2 ** 30); b.fill(1); return b.length }"
    )

    outcome = run(
        code,
        "onTrack",
        [],
        fetch=transport,
        limits=Limits(cpu_seconds=5, process_bytes=256 * 1024 * 1024),
    )

    assert outcome.error.exceeded is Exceeded.MEMORY
    assert runs_normally_after(transport)


def test_an_allocation_past_v8s_ceiling_ends_the_sandbox_process_not_the_worker(transport):
    # One 2 GB array: V8 aborts its process rather than throw, whatever limit is set.
    code = "async function onTrack() { return 'x'.repeat(2 ** 28).split('').length }"

    outcome = run(code, "onTrack", [], fetch=transport, limits=Limits(process_bytes=64 * 1024**3))

    assert outcome.error.exceeded is Exceeded.MEMORY
    assert "the sandbox ended by signal" in outcome.error.message
    assert runs_normally_after(transport)


def test_timers_wait_on_the_wall_clock_not_the_cpu_limit(transport):
    code = dedent("""\
        async function onTrack() {
          const order = []
          const cleared = setTimeout(() => order.push('cleared'), 50)
          setTimeout(() => order.push('second'), 300)
          setTimeout(() => order.push('first'), 100)
          clearTimeout(cleared)
          await new Promise((resolve) => setTimeout(resolve, 400))
          return order
        }
        """)

    outcome = run(code, "onTrack", [], fetch=transport, limits=Limits(cpu_seconds=0.2))

    assert outcome.value == ["first", "second"]
    assert outcome.wall_seconds >= 0.4
    assert outcome.cpu_seconds < 0.2


def test_a_timer_past_the_wall_clock_cap_stops_the_invocation(transport):
    code = "async function onTrack() { await new Promise((resolve) => setTimeout(resolve, 5000)) }"

    outcome = run(code, "onTrack", [], fetch=transport, limits=Limits(wall_seconds=0.3))

    assert outcome.error.exceeded is Exceeded.WALL_TIME
    assert outcome.wall_seconds < 1
    assert runs_normally_after(transport)


def test_a_promise_that_nothing_can_settle_fails_at_once(transport):
    outcome = run(
        "async function onTrack() { await new Promise(() => {}) }", "onTrack", [], fetch=transport
    )

    assert outcome.error.name == "Error"
    assert outcome.error.message.startswith("The handler's promise never settled")
    assert outcome.error.exceeded is None
    assert outcome.wall_seconds < 1
