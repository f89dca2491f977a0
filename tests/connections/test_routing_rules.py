"""Device-mode filters as analytics.js routing rules: run by the tsub build inside the official
``@segment/analytics-next`` package, they treat events as Segapp's own filters do."""

import json
import subprocess

import pytest

from connections import filters, routing_rules
from delivery import filters as server_filters
from delivery import fql
from tests.factories import make_instance, make_source
from tests.processes import REPO

FILTERS = [
    ("Tests out", "event = 'Test' or match(context.library.name, 'internal-*')", [{"type": "DROP"}]),
    ("Privacy", "all", [{"type": "DROP_PROPERTIES", "fields": {"properties": ["email"], "context": ["ip"]}}]),
    ("Big orders only keep totals", "properties.total > 100 and lowercase(event) = 'order completed'",
     [{"type": "ALLOW_PROPERTIES", "fields": {"properties": ["total", "currency"]}}]),
    ("Known plans", "type = 'identify' and !(traits.plan in ['free', 'pro']) and length(userId) >= 3", [{"type": "DROP"}]),
    ("Everything kept", "length(event) > 0", [{"type": "SAMPLE", "percent": 1}]),
    ("Never kept", "event = 'Noise'", [{"type": "SAMPLE", "percent": 0}]),
]  # fmt: skip

PAYLOADS = [
    {"type": "track", "event": "Test", "userId": "u1", "properties": {"total": 1}},
    {"type": "track", "event": "Viewed", "userId": "u1", "context": {"library": {"name": "internal-sdk"}}},
    {"type": "track", "event": "Order Completed", "userId": "u12", "context": {"ip": "1.2.3.4"},
     "properties": {"total": 150, "currency": "EUR", "coupon": "X", "email": "a@b.c"}},
    {"type": "track", "event": "Order Completed", "userId": "u12", "properties": {"total": 50, "coupon": "X"}},
    {"type": "identify", "userId": "user-7", "traits": {"plan": "enterprise"}},
    {"type": "identify", "userId": "user-8", "traits": {"plan": "pro"}},
    {"type": "track", "event": "Noise", "userId": "u1"},
]  # fmt: skip


def run_tsub(rules, destination, payloads):
    result = subprocess.run(
        ["node", "tsub_apply.js"], cwd=REPO / "tests" / "clients", capture_output=True, text=True, timeout=60,
        input=json.dumps({"rules": rules, "destination": destination, "payloads": payloads}),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def instance(catalog, workspace):
    return make_instance(
        make_source(workspace, "javascript"), "amplitude", settings={"apiKey": "k"}
    )


def test_the_browser_applies_device_mode_filters_as_the_server_does(instance):
    saved = [
        filters.create_filter(instance, None, title=t, condition=c, actions=a)
        for t, c, a in FILTERS
    ]
    rule = routing_rules.rule_for("Amplitude", saved)
    browser = run_tsub([rule], "Amplitude", PAYLOADS)
    specs = [
        server_filters.FilterSpec(f.pk, fql.compile(f.condition_ast), f.actions) for f in saved
    ]
    server = [server_filters.apply(specs, payload)[0] for payload in PAYLOADS]
    assert browser == server
    assert [p is None for p in browser] == [True, True, False, False, True, False, True]
    assert (
        browser[2]["properties"] == {"total": 150, "currency": "EUR"}
        and "ip" not in browser[2]["context"]
    )
    assert (
        run_tsub([rule], "Mixpanel", PAYLOADS[:1]) == PAYLOADS[:1]
    )  # other destinations untouched


def test_filters_the_browser_cannot_run_are_left_out_with_a_reason(instance):
    kept = filters.create_filter(
        instance, None, title="Drop tests", condition="event = 'Test'", actions=[{"type": "DROP"}]
    )
    upper = filters.create_filter(instance, None, title="Upper", condition="uppercase(event) = 'TEST'",
                                  actions=[{"type": "DROP"}])  # fmt: skip
    off = filters.create_filter(
        instance, None, title="Off", condition="all", actions=[{"type": "DROP"}], enabled=False
    )
    assert (
        routing_rules.untranslatable(upper.condition_ast)
        == "uppercase() cannot run in analytics.js"
    )
    assert routing_rules.untranslatable(kept.condition_ast) is None
    rule = routing_rules.rule_for("Amplitude", [kept, upper, off])
    assert len(rule["matchers"]) == 1
    assert routing_rules.rule_for("Amplitude", [upper, off]) is None
    nested = filters.create_filter(instance, None, title="Nested", condition="contains(lowercase(event), 'x')",
                                   actions=[{"type": "DROP"}])  # fmt: skip
    assert (
        routing_rules.untranslatable(nested.condition_ast)
        == "lowercase() cannot be nested there in analytics.js"
    )
