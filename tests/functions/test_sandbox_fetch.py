"""fetch goes through the transport the caller passes in, reaches real servers, and every
exchange is recorded; failures surface as node-fetch's FetchError."""

import json
import socket
import time
from textwrap import dedent

from functions.outcome import Exceeded
from functions.sandbox import Limits, run
from tests.sinks import Reply

SETTINGS = {"apiKey": "k-123"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_post_reaches_the_server_and_the_exchange_is_recorded(sink, transport):
    sink.default = Reply(201, b'{"id": 7}', {"Content-Type": "application/json", "X-Trace": "t1"})
    code = dedent("""\
        async function onTrack(event, settings) {
          const res = await fetch(settings.url + '/track?source=fn', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${settings.apiKey}` },
            body: JSON.stringify({ name: event.event }),
          })
          const data = await res.json()
          return { status: res.status, ok: res.ok, id: data.id, trace: res.headers.get('x-trace') }
        }
        """)

    outcome = run(
        code, "onTrack", [{"event": "Signed Up"}, {**SETTINGS, "url": sink.url}], fetch=transport
    )

    assert outcome.value == {"status": 201, "ok": True, "id": 7, "trace": "t1"}
    [received] = sink.received
    assert (received.method, received.path) == ("POST", "/track?source=fn")
    assert received.headers["authorization"] == "Bearer k-123"
    assert received.headers["content-type"] == "application/json"
    assert json.loads(received.body) == {"name": "Signed Up"}
    [exchange] = outcome.exchanges
    assert (exchange.method, exchange.url) == ("POST", sink.url + "/track?source=fn")
    assert exchange.request_headers["authorization"] == "[redacted]"
    assert exchange.request_headers["content-type"] == "application/json"
    assert json.loads(exchange.request_body) == {"name": "Signed Up"}
    assert exchange.status == 201
    assert exchange.response_headers["x-trace"] == "t1"
    assert exchange.response_body == '{"id": 7}'
    assert exchange.error is None


def test_a_get_with_url_search_params_and_a_text_body(sink, transport):
    sink.default = Reply(404, "not here: ☃".encode(), {"Content-Type": "text/plain; charset=utf-8"})
    code = dedent("""\
        async function onIdentify(event, settings) {
          const url = new URL('/users', settings.url)
          url.searchParams.set('email', event.traits.email)
          const res = await fetch(url, { headers: new Headers([['X-Api-Key', settings.apiKey]]) })
          return [res.ok, res.status, res.statusText, await res.text(), res.bodyUsed]
        }
        """)

    outcome = run(
        code,
        "onIdentify",
        [{"traits": {"email": "a+b@x.com"}}, {**SETTINGS, "url": sink.url}],
        fetch=transport,
    )

    assert outcome.value == [False, 404, "Not Found", "not here: ☃", True]
    [received] = sink.received
    assert (received.method, received.path) == ("GET", "/users?email=a%2Bb%40x.com")
    assert received.headers["x-api-key"] == "k-123"
    assert received.headers["accept"] == "*/*"
    assert outcome.exchanges[0].request_headers["x-api-key"] == "[redacted]"


def test_a_network_error_is_a_fetch_error_the_function_can_catch(transport):
    url = f"http://127.0.0.1:{closed_port()}/"
    code = dedent("""\
        async function onTrack(event, settings) {
          try {
            await fetch(settings.url, { method: 'POST', body: 'x' })
          } catch (err) {
            return [err instanceof FetchError, err.name, err.type, err.code, err.message]
          }
        }
        """)

    outcome = run(code, "onTrack", [{}, {"url": url}], fetch=transport)

    is_fetch_error, name, kind, code_, message = outcome.value
    assert (is_fetch_error, name, kind, code_) == (True, "FetchError", "system", "ECONNREFUSED")
    assert message.startswith(f"request to {url} failed, reason: ")
    [exchange] = outcome.exchanges
    assert exchange.status is None
    assert exchange.error


def test_an_uncaught_network_error_points_at_the_line_that_called_fetch(transport):
    code = dedent("""\
        async function onTrack(event, settings) {
          console.log('sending')
          const res = await fetch(settings.url)
          return res.status
        }
        """)

    outcome = run(
        code, "onTrack", [{}, {"url": f"http://127.0.0.1:{closed_port()}/x"}], fetch=transport
    )

    assert outcome.error.name == "FetchError"
    assert outcome.error.line == 3
    assert [line.message for line in outcome.logs] == ["sending"]


def test_fetch_calls_are_capped_per_invocation(sink, transport):
    code = dedent("""\
        async function onBatch(events, settings) {
          const results = []
          for (const event of events) {
            try {
              results.push((await fetch(settings.url, { method: 'POST', body: String(event) })).status)
            } catch (err) {
              results.push(err.type)
            }
          }
          return results
        }
        """)

    outcome = run(
        code,
        "onBatch",
        [[1, 2, 3, 4, 5], {"url": sink.url}],
        fetch=transport,
        limits=Limits(fetches=3),
    )

    assert outcome.value == [200, 200, 200, "max-fetches", "max-fetches"]
    assert [r.body for r in sink.received] == [b"1", b"2", b"3"]
    assert len(outcome.exchanges) == 3


def test_a_response_body_over_the_cap_is_refused_and_the_record_is_cut(sink, transport):
    sink.default = Reply(200, b"x" * 5000)
    code = dedent("""\
        async function onTrack(event, settings) {
          const res = await fetch(settings.url)
          try {
            await res.text()
          } catch (err) {
            return [res.status, err.name, err.type]
          }
        }
        """)

    outcome = run(
        code,
        "onTrack",
        [{}, {"url": sink.url}],
        fetch=transport,
        limits=Limits(response_bytes=1000, record_bytes=10),
    )

    assert outcome.value == [200, "FetchError", "max-size"]
    assert outcome.exchanges[0].response_body == "x" * 10 + "… (1001 bytes)"


def test_time_waiting_on_fetch_is_not_cpu_time(sink, transport):
    sink.default = Reply(200, b"slow", delay=0.6)
    code = "async function onTrack(e, s) { return (await fetch(s.url)).status }"

    outcome = run(
        code, "onTrack", [{}, {"url": sink.url}], fetch=transport, limits=Limits(cpu_seconds=0.3)
    )

    assert outcome.value == 200
    assert outcome.cpu_seconds < 0.3
    assert outcome.wall_seconds >= 0.6


def test_a_fetch_slower_than_the_wall_clock_cap_stops_the_invocation(sink, transport):
    sink.default = Reply(200, b"too late", delay=3)
    code = "async function onTrack(e, s) { try { await fetch(s.url) } catch (err) { return 'caught' } }"

    started = time.monotonic()
    outcome = run(
        code, "onTrack", [{}, {"url": sink.url}], fetch=transport, limits=Limits(wall_seconds=0.5)
    )

    assert time.monotonic() - started < 1.5  # the transport was told the time left
    assert outcome.error.exceeded is Exceeded.WALL_TIME
    assert outcome.value is None
    assert run("async function onTrack() { return 1 }", "onTrack", [], fetch=transport).value == 1
