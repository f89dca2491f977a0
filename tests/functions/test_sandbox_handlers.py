"""Each handler is called with the event and the settings; what it returns, logs and throws
comes back in the Outcome, errors with the line of the customer's code that threw."""

from textwrap import dedent

import pytest

from functions.sandbox import Limits, run

EVENT = {"type": "track", "event": "Song Played", "userId": "u1", "properties": {"plays": 3}}
SETTINGS = {"apiKey": "k-123"}
EVENT_HANDLERS = ["onTrack", "onIdentify", "onPage", "onScreen", "onGroup", "onAlias", "onDelete"]


@pytest.mark.parametrize("handler", EVENT_HANDLERS)
def test_calls_the_handler_of_the_event_type_with_event_and_settings(handler, transport):
    code = "".join(
        f"async function {name}(event, settings) {{\n"
        f"  return {{ handler: '{name}', event, key: settings.apiKey }}\n"
        "}\n"
        for name in EVENT_HANDLERS
    )

    outcome = run(code, handler, [EVENT, SETTINGS], fetch=transport)

    assert outcome.error is None
    assert outcome.value == {"handler": handler, "event": EVENT, "key": "k-123"}


def test_on_batch_gets_the_events_and_returns_a_status_for_each(transport):
    code = dedent("""\
        async function onBatch(events, settings) {
          return events.map((e) => (e.userId ? { status: 200 } : { status: 400, errormessage: 'no userId' }))
        }
        """)

    outcome = run(code, "onBatch", [[EVENT, {"type": "track"}], SETTINGS], fetch=transport)

    assert outcome.value == [{"status": 200}, {"status": 400, "errormessage": "no userId"}]


def test_an_insert_function_returns_the_event_it_changed(transport):
    code = dedent("""\
        async function onTrack(event, settings) {
          event.properties.plays += 1
          delete event.userId
          return event
        }
        """)

    outcome = run(code, "onTrack", [EVENT, SETTINGS], fetch=transport)

    assert outcome.value == {"type": "track", "event": "Song Played", "properties": {"plays": 4}}


def test_a_source_function_handler_runs_too(transport):
    code = dedent("""\
        async function onRequest(request, settings) {
          const url = new URL(request.url)
          return { user: url.searchParams.get('user'), type: new Headers(request.headers).get('content-type') }
        }
        """)
    request = {
        "url": "https://hooks.example.com/in?user=42",
        "headers": {"Content-Type": "application/json"},
    }

    outcome = run(code, "onRequest", [request, SETTINGS], fetch=transport)

    assert outcome.value == {"user": "42", "type": "application/json"}


def test_a_handler_that_returns_nothing_gives_none(transport):
    outcome = run(
        "async function onTrack(event) { event.seen = true }", "onTrack", [EVENT], fetch=transport
    )

    assert outcome.error is None
    assert outcome.value is None


def test_a_return_value_that_is_not_json_is_a_type_error(transport):
    outcome = run("async function onTrack() { return { n: 10n } }", "onTrack", [], fetch=transport)

    assert outcome.error.name == "TypeError"
    assert "not JSON" in outcome.error.message
    assert outcome.value is None


def test_a_missing_handler_is_reported_as_such_and_not_as_an_error(transport):
    code = "async function onTrack(event) { return event }\nconst onAlias = 'not a function'\n"

    for handler in ["onIdentify", "onAlias"]:
        outcome = run(code, handler, [EVENT, SETTINGS], fetch=transport)
        assert outcome.missing_handler is True
        assert outcome.error is None
    assert run(code, "onTrack", [EVENT, SETTINGS], fetch=transport).missing_handler is False


def test_refuses_a_handler_name_that_is_not_an_identifier(transport):
    with pytest.raises(ValueError):
        run("async function onTrack() {}", "onTrack(); globalThis.x", [], fetch=transport)


def test_console_lines_come_back_with_their_level_formatted_like_node(transport):
    code = dedent("""\
        console.log('loaded')
        async function onTrack(event) {
          console.log('event', event.event, { plays: event.properties.plays })
          console.info('%s played %d times', event.userId, 3)
          console.warn(['a', 1])
          console.error(new TypeError('bad'))
          console.debug(undefined, null, 2.5)
        }
        """)

    outcome = run(code, "onTrack", [EVENT, SETTINGS], fetch=transport)

    assert [(line.level, line.message.splitlines()[0]) for line in outcome.logs] == [
        ("log", "loaded"),
        ("log", 'event Song Played {"plays":3}'),
        ("info", "u1 played 3 times"),
        ("warn", '["a",1]'),
        ("error", "TypeError: bad"),
        ("debug", "undefined null 2.5"),
    ]


def test_console_keeps_a_bounded_number_of_bounded_lines(transport):
    code = "async function onTrack() { for (let i = 0; i < 10; i++) console.log(String(i).repeat(50)) }"

    outcome = run(code, "onTrack", [], fetch=transport, limits=Limits(log_lines=3, log_chars=20))

    assert [line.message for line in outcome.logs] == [
        "0" * 20 + "…",
        "1" * 20 + "…",
        "2" * 20 + "…",
    ]
    assert outcome.logs_dropped == 7


@pytest.mark.parametrize(
    "error_class",
    [
        "ValidationError",
        "InvalidEventPayload",
        "RetryError",
        "EventNotSupported",
        "InvalidSettingsError",
    ],
)
def test_segment_error_classes_come_back_by_name_with_message_and_line(error_class, transport):
    code = dedent(f"""\
        // Line 1 of the customer's code.
        async function onTrack(event, settings) {{
          if (!event.properties.required) {{
            throw new {error_class}('required is missing')
          }}
        }}
        """)

    outcome = run(code, "onTrack", [EVENT, SETTINGS], fetch=transport)

    assert outcome.error.name == error_class
    assert outcome.error.message == "required is missing"
    assert outcome.error.line == 4
    assert outcome.error.exceeded is None
    assert "at onTrack (function.js:4:" in outcome.error.stack


def test_segment_errors_are_errors_the_function_can_catch_by_class(transport):
    code = dedent("""\
        async function onTrack() {
          try { throw new RetryError('later') } catch (e) {
            return [e instanceof RetryError, e instanceof Error, e.name, String(e)]
          }
        }
        """)

    assert run(code, "onTrack", [], fetch=transport).value == [
        True,
        True,
        "RetryError",
        "RetryError: later",
    ]


def test_a_runtime_error_after_an_await_gives_the_customer_line(transport):
    code = dedent("""\
        async function helper() {
          await null
          return null
        }
        async function onTrack(event) {
          const found = await helper()
          return found.name
        }
        """)

    outcome = run(code, "onTrack", [EVENT], fetch=transport)

    assert outcome.error.name == "TypeError"
    assert outcome.error.message == "Cannot read properties of null (reading 'name')"
    assert outcome.error.line == 7


def test_a_custom_error_class_and_a_thrown_string_are_named(transport):
    code = dedent("""\
        class QuotaError extends Error {}
        async function onTrack() { throw new QuotaError('over quota') }
        async function onPage() { throw 'plain string' }
        """)

    quota = run(code, "onTrack", [], fetch=transport).error
    plain = run(code, "onPage", [], fetch=transport).error

    assert (quota.name, quota.message, quota.line) == ("QuotaError", "over quota", 2)
    assert (plain.name, plain.message) == ("Error", "plain string")


def test_a_syntax_error_gives_the_line_it_is_on(transport):
    code = "async function onTrack(event) {\n  return event\n}\nconst broken = ;\n"

    outcome = run(code, "onTrack", [EVENT], fetch=transport)

    assert outcome.error.name == "SyntaxError"
    assert outcome.error.message == "Unexpected token ';'"
    assert outcome.error.line == 4
    assert outcome.missing_handler is False


def test_an_error_thrown_while_loading_keeps_what_was_logged(transport):
    code = "console.log('starting')\nconst key = settings.apiKey\n"

    outcome = run(code, "onTrack", [EVENT, SETTINGS], fetch=transport)

    assert outcome.error.name == "ReferenceError"
    assert outcome.error.message == "settings is not defined"
    assert outcome.error.line == 2
    assert [line.message for line in outcome.logs] == ["starting"]
