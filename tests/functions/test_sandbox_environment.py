"""Segment's function environment: URL, URLSearchParams, Headers, btoa/atob and crypto give
what Node gives, checked against values captured from Node and RFC 4231's test vectors."""

import json
from pathlib import Path
from textwrap import dedent

import pytest

from functions.sandbox import run

FIXTURES = Path(__file__).parent / "fixtures"
NODE = json.loads((FIXTURES / "node_behaviour.json").read_text())["cases"]
RFC_4231 = json.loads((FIXTURES / "rfc4231_hmac_sha256.json").read_text())["cases"]


def evaluate(expressions: list[str], transport) -> list:
    """Each expression's value, or the error it threw, from one invocation."""
    guarded = [
        f"(() => {{ try {{ return {e} }} catch (e) {{ return 'threw ' + e }} }})()"
        for e in expressions
    ]
    outcome = run(
        "async function onTrack() { return [\n" + ",\n".join(guarded) + "\n] }",
        "onTrack",
        [],
        fetch=transport,
    )
    assert outcome.error is None
    return outcome.value


@pytest.mark.parametrize("area", sorted(NODE))
def test_gives_what_node_gives(area, transport):
    cases = NODE[area]

    values = evaluate([case["js"] for case in cases], transport)

    assert [(case["js"], value) for case, value in zip(cases, values, strict=True)] == [
        (case["js"], case["expected"]) for case in cases
    ]


def test_hmac_sha256_matches_rfc_4231(transport):
    key = "Uint8Array.from('{}'.match(/../g).map((h) => parseInt(h, 16)))"
    expressions = [
        f"crypto.createHmac('sha256', {key.format(case['key'])}).update('{case['data']}', 'hex').digest('hex')"
        for case in RFC_4231
    ]

    assert evaluate(expressions, transport) == [case["hmac_sha256"] for case in RFC_4231]


def test_a_digest_without_an_encoding_says_which_to_pass(transport):
    [message] = evaluate(["crypto.createHash('sha256').update('x').digest()"], transport)

    assert message.startswith("threw TypeError: digest() needs an encoding")


def test_globals_of_segments_runtime_are_there(transport):
    names = [
        "fetch", "Headers", "Response", "URL", "URLSearchParams", "btoa", "atob", "crypto", "console",
        "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask",
        "ValidationError", "InvalidEventPayload", "RetryError", "EventNotSupported",
        "InvalidSettingsError", "FetchError",
    ]  # fmt: skip

    assert evaluate([f"typeof {name}" for name in names], transport) == [
        "object" if name in ("crypto", "console") else "function" for name in names
    ]


def test_an_interval_repeats_until_cleared(transport):
    code = dedent("""\
        async function onTrack() {
          let ticks = 0
          await new Promise((resolve) => {
            const id = setInterval(() => {
              ticks += 1
              if (ticks === 3) { clearInterval(id); resolve() }
            }, 10)
          })
          return ticks
        }
        """)

    assert run(code, "onTrack", [], fetch=transport).value == 3
