"""Destination filter actions: checking them when saved and running them on messages."""

import copy
import random

import pytest

from connections.filter_actions import parse_field_path, validate_actions
from connections.fql import parse
from delivery import filters
from delivery.filters import FilterSpec, apply, sample_share
from delivery.fql import compile

MESSAGE = {
    "type": "track",
    "event": "Order Completed",
    "messageId": "m-1",
    "userId": "user-42",
    "anonymousId": "anon-7",
    "timestamp": "2024-05-01T10:00:00.000Z",
    "context": {
        "ip": "203.0.113.9",
        "library": {"name": "analytics.js", "version": "1.0"},
        "traits": {"email": "ada@example.com", "name": "Ada"},
    },
    "properties": {
        "total": 27.5,
        "currency": "EUR",
        "email": "ada@example.com",
        "address": {"city": "Lyon", "zip": "69001"},
        "products": [
            {"id": "p1", "price": 19.0, "name": "Game"},
            {"id": "p2", "price": 8.5, "name": "Book"},
        ],
        "foo.bar": 1,
    },
}


def spec(id, actions, condition="all"):
    return FilterSpec(id=id, condition=compile(parse(condition)), actions=actions)


def run(*specs, message=MESSAGE):
    before = copy.deepcopy(message)
    result = apply(list(specs), message)
    assert message == before, "apply changed its input"
    return result


DROP = {"type": "DROP"}


def drop_props(**fields):
    return {"type": "DROP_PROPERTIES", "fields": fields}


def allow_props(**fields):
    return {"type": "ALLOW_PROPERTIES", "fields": fields}


def top(**kwargs):
    """fields with the top level's key, ''."""
    return {"": kwargs.pop("top"), **kwargs}


# Each action alone.


def test_no_filters_pass_a_copy():
    result, reason = run()
    assert (result, reason) == (MESSAGE, "")
    assert result is not MESSAGE


def test_drop():
    assert run(spec("f1", [DROP])) == (None, "filter f1: dropped")


def test_drop_only_matching_events():
    only_track = spec("f1", [DROP], "type = 'identify'")
    assert run(only_track) == (MESSAGE, "")
    assert run(only_track, message={"type": "identify", "messageId": "x"}) == (
        None,
        "filter f1: dropped",
    )


def test_drop_properties():
    result, reason = run(
        spec("f1", [drop_props(properties=["email", "missing"], context=["ip", "traits.email"])])
    )
    assert reason == ""
    assert "email" not in result["properties"]
    assert "ip" not in result["context"]
    assert result["context"]["traits"] == {"name": "Ada"}
    assert result["properties"]["total"] == 27.5
    assert result["context"]["library"] == MESSAGE["context"]["library"]


def test_drop_nested_properties_and_in_every_list_element():
    result, _ = run(spec("f1", [drop_props(properties=["address.city", "products.price"])]))
    assert result["properties"]["address"] == {"zip": "69001"}
    assert result["properties"]["products"] == [
        {"id": "p1", "name": "Game"},
        {"id": "p2", "name": "Book"},
    ]


def test_drop_a_whole_object_or_a_list():
    result, _ = run(spec("f1", [drop_props(properties=["address", "products"])]))
    assert set(result["properties"]) == {"total", "currency", "email", "foo.bar"}


def test_drop_escaped_key():
    result, _ = run(spec("f1", [drop_props(properties=[r"foo\.bar"])]))
    assert "foo.bar" not in result["properties"]


def test_drop_top_level_fields_but_never_type_or_message_id():
    result, _ = run(spec("f1", [drop_props(**top(top=["anonymousId", "type", "messageId"]))]))
    assert "anonymousId" not in result
    assert result["type"] == "track"
    assert result["messageId"] == "m-1"


def test_drop_traits_of_identify():
    identify = {"type": "identify", "messageId": "i", "traits": {"email": "a@b", "plan": "pro"}}
    result, _ = run(spec("f1", [drop_props(traits=["email"])]), message=identify)
    assert result["traits"] == {"plan": "pro"}


def test_drop_properties_of_an_absent_object_is_harmless():
    page = {"type": "page", "messageId": "p", "name": "Home"}
    assert run(spec("f1", [drop_props(traits=["email"], properties=["a.b"])]), message=page) == (
        page,
        "",
    )


def test_allow_properties():
    result, _ = run(spec("f1", [allow_props(properties=["total", "currency", "missing"])]))
    assert result["properties"] == {"total": 27.5, "currency": "EUR"}
    # Other objects and the top level are untouched.
    assert result["context"] == MESSAGE["context"]
    assert {k: v for k, v in result.items() if k != "properties"} == {
        k: v for k, v in MESSAGE.items() if k != "properties"
    }


def test_allow_nested_properties():
    result, _ = run(spec("f1", [allow_props(properties=["address.city", "products.id"])]))
    assert result["properties"] == {
        "address": {"city": "Lyon"},
        "products": [{"id": "p1"}, {"id": "p2"}],
    }


def test_allow_a_whole_object_wins_over_a_nested_path():
    for names in (["address", "address.city"], ["address.city", "address"]):
        result, _ = run(spec("f1", [allow_props(properties=names)]))
        assert result["properties"] == {"address": {"city": "Lyon", "zip": "69001"}}


def test_allow_nested_path_under_a_plain_value_keeps_nothing():
    message = {**MESSAGE, "properties": {"address": "12 Main St", "tags": ["a", {"k": 1, "x": 2}]}}
    result, _ = run(
        spec("f1", [allow_props(properties=["address.city", "tags.k"])]), message=message
    )
    assert result["properties"] == {"tags": [{"k": 1}]}


def test_allow_nothing():
    result, _ = run(spec("f1", [allow_props(context=[])]))
    assert result["context"] == {}


def test_allow_top_level_keeps_type_message_id_and_identity():
    result, _ = run(spec("f1", [allow_props(**top(top=["event", "properties"]))]))
    assert result == {
        "type": "track",
        "event": "Order Completed",
        "messageId": "m-1",
        "userId": "user-42",
        "anonymousId": "anon-7",
        "properties": MESSAGE["properties"],
    }
    assert list(result) == [k for k in MESSAGE if k in result]  # the message's order


def test_sample_percent_one_keeps_everything_and_zero_nothing():
    for i in range(200):
        message = {**MESSAGE, "userId": f"u{i}"}
        assert run(spec("f1", [{"type": "SAMPLE", "percent": 1}]), message=message)[1] == ""
        assert (
            run(
                spec("f1", [{"type": "SAMPLE", "percent": 1.0, "path": "userId"}]), message=message
            )[1]
            == ""
        )
        assert run(spec("f1", [{"type": "SAMPLE", "percent": 0}]), message=message) == (
            None,
            "filter f1: sampled out",
        )
        assert (
            run(
                spec("f1", [{"type": "SAMPLE", "percent": 0.0, "path": "userId"}]), message=message
            )[0]
            is None
        )


def test_random_sampling_keeps_about_percent(monkeypatch):
    rng = random.Random(1234)
    monkeypatch.setattr(filters.random, "random", rng.random)
    sample = spec("s", [{"type": "SAMPLE", "percent": 0.25}])
    kept = sum(apply([sample], MESSAGE)[0] is not None for _ in range(10_000))
    assert 2300 <= kept <= 2700


def test_random_sampling_uses_percent_as_the_kept_share(monkeypatch):
    sample = spec("s", [{"type": "SAMPLE", "percent": 0.3}])
    monkeypatch.setattr(filters.random, "random", lambda: 0.29)
    assert apply([sample], MESSAGE)[0] is not None
    monkeypatch.setattr(filters.random, "random", lambda: 0.3)
    assert apply([sample], MESSAGE) == (None, "filter s: sampled out")


def test_sampling_by_path_is_deterministic():
    sample = spec("s", [{"type": "SAMPLE", "percent": 0.5, "path": "userId"}])
    for user in ("user-1", "user-2", "user-3", "user-4"):
        message = {**MESSAGE, "userId": user}
        decisions = {apply([sample], message)[0] is not None for _ in range(1000)}
        assert len(decisions) == 1


def test_sampling_by_path_keeps_about_percent_of_values():
    sample = spec("s", [{"type": "SAMPLE", "percent": 0.3, "path": "userId"}])
    kept = sum(
        apply([sample], {**MESSAGE, "userId": f"user-{i}"})[0] is not None for i in range(10_000)
    )
    assert 2800 <= kept <= 3200


def test_sampling_by_a_nested_path():
    sample = spec("s", [{"type": "SAMPLE", "percent": 0.5, "path": "context.traits.email"}])
    kept = set()
    for i in range(200):
        message = copy.deepcopy(MESSAGE)
        message["context"]["traits"]["email"] = f"u{i % 20}@example.com"
        message["userId"] = f"x{i}"
        kept.add((i % 20, apply([sample], message)[0] is not None))
    assert len(kept) == 20  # each email got one decision, whatever the userId


def test_sampling_decisions_depend_on_the_filter():
    values = [f"user-{i}" for i in range(1000)]
    a = [sample_share("a", v) < 0.5 for v in values]
    b = [sample_share("b", v) < 0.5 for v in values]
    assert a != b
    assert all(0 <= sample_share("a", v) < 1 for v in values)
    assert sample_share("a", "user-1") == sample_share("a", "user-1")
    assert sample_share("a", "1") != sample_share("a", 1)


def test_sampling_by_a_missing_path_is_random(monkeypatch):
    sample = spec("s", [{"type": "SAMPLE", "percent": 0.5, "path": "properties.account"}])
    monkeypatch.setattr(filters.random, "random", lambda: 0.1)
    assert apply([sample], MESSAGE)[0] is not None
    monkeypatch.setattr(filters.random, "random", lambda: 0.9)
    assert apply([sample], MESSAGE)[0] is None


# Several filters: conditions on the message as it arrived, then sample → drop → drop props → allow.


def test_conditions_see_the_message_as_it_arrived():
    strip_email = spec("strip", [drop_props(properties=["email"])])
    drop_if_email = spec("drop", [DROP], "properties.email != null")
    # The drop's condition matches although the other filter, listed first, removes the field.
    assert run(strip_email, drop_if_email) == (None, "filter drop: dropped")
    assert run(drop_if_email, strip_email) == (None, "filter drop: dropped")


def test_filters_order_does_not_change_which_ones_match():
    allow_total = spec("allow", [allow_props(properties=["total", "currency"])])
    flag_big = spec("big", [drop_props(properties=["currency"])], "properties.email != null")
    one, _ = run(allow_total, flag_big)
    two, _ = run(flag_big, allow_total)
    assert one == two
    assert one["properties"] == {"total": 27.5}


def test_sample_runs_before_drop(monkeypatch):
    monkeypatch.setattr(filters.random, "random", lambda: 0.99)
    dropper = spec("d", [DROP])
    sampler = spec("s", [{"type": "SAMPLE", "percent": 0.5}])
    assert run(dropper, sampler) == (None, "filter s: sampled out")
    monkeypatch.setattr(filters.random, "random", lambda: 0.01)
    assert run(dropper, sampler) == (None, "filter d: dropped")


def test_drop_runs_before_property_actions():
    assert run(spec("p", [drop_props(properties=["email"])]), spec("d", [DROP])) == (
        None,
        "filter d: dropped",
    )


def test_drop_properties_and_allow_properties_combine():
    # Both only remove fields, so their order cannot show: whichever filter is listed first, the
    # result keeps what the allow-list names minus what the drop names, down to nested fields.
    allow = spec("allow", [allow_props(properties=["address", "total"])])
    drop = spec("drop", [drop_props(properties=["address.city", "total", "email"])])
    for order in ((allow, drop), (drop, allow)):
        result, _ = run(*order)
        assert result["properties"] == {"address": {"zip": "69001"}}


def test_allow_lists_of_the_same_object_intersect():
    result, _ = run(
        spec("a", [allow_props(properties=["total", "currency"])]),
        spec("b", [allow_props(properties=["currency", "email"])]),
    )
    assert result["properties"] == {"currency": "EUR"}


def test_actions_of_one_filter_run_in_the_same_order():
    result, _ = run(
        spec(
            "f",
            [
                allow_props(properties=["total", "email"]),
                drop_props(properties=["email"]),
            ],
        )
    )
    assert result["properties"] == {"total": 27.5}


def test_non_matching_filters_leave_the_message_untouched():
    result, reason = run(
        spec("a", [DROP], "type = 'identify'"),
        spec("b", [drop_props(properties=["email"])], "event = 'Signed Up'"),
        spec("c", [{"type": "SAMPLE", "percent": 0}], "properties.total > 100"),
        spec("d", [allow_props(**top(top=[]))], "userId = null"),
    )
    assert (result, reason) == (MESSAGE, "")


def test_only_matching_filters_act():
    result, _ = run(
        spec("a", [drop_props(properties=["email"])], "event = 'Order Completed'"),
        spec("b", [drop_props(properties=["total"])], "event = 'Signed Up'"),
    )
    assert "email" not in result["properties"]
    assert result["properties"]["total"] == 27.5


def test_result_shares_nothing_changed_with_the_input():
    result, _ = run(spec("f", [drop_props(properties=["address.city"])]))
    result["properties"]["address"]["zip"] = "changed"
    result["context"]["library"]["name"] = "changed"
    assert MESSAGE["properties"]["address"] == {"city": "Lyon", "zip": "69001"}
    assert MESSAGE["context"]["library"]["name"] == "analytics.js"


def test_a_condition_that_fails_drops_the_message():
    def broken(message):
        raise RuntimeError("boom")

    assert run(FilterSpec("x", broken, [DROP])) == (None, "filter x: condition failed")


@pytest.mark.parametrize(
    "action",
    [
        {"type": "NOPE"},
        {"percent": 0.5},
        "DROP",
        {"type": "SAMPLE", "percent": "half"},
        {"type": "SAMPLE", "percent": 0.5, "path": 3},
        {"type": "DROP_PROPERTIES", "fields": ["email"]},
        {"type": "ALLOW_PROPERTIES", "fields": {"integrations": ["x"]}},
        {"type": "DROP_PROPERTIES", "fields": {"properties": "email"}},
        {"type": "DROP_PROPERTIES", "fields": {"properties": [["email"]]}},
        {"type": "DROP_PROPERTIES", "fields": {"properties": ["a..b"]}},
    ],
)
def test_an_action_that_cannot_run_drops_the_message(action):
    result, reason = run(spec("x", [action]))
    assert result is None
    assert reason.startswith("filter x: invalid action (")


def test_filter_spec_is_frozen():
    f = spec("f", [DROP])
    with pytest.raises(AttributeError):
        f.id = "g"


# Checking actions when a filter is saved.


@pytest.mark.parametrize(
    "actions",
    [
        [{"type": "DROP"}],
        [{"type": "SAMPLE", "percent": 0}],
        [{"type": "SAMPLE", "percent": 1}],
        [{"type": "SAMPLE", "percent": 0.25, "path": "userId"}],
        [{"type": "SAMPLE", "percent": 0.25, "path": None, "fields": None}],
        [{"type": "DROP_PROPERTIES", "fields": {"properties": ["a", "b.c"], "": ["anonymousId"]}}],
        [{"type": "ALLOW_PROPERTIES", "fields": {"context": ["ip"], "traits": [], "": ["type"]}}],
        [{"type": "DROP"}, {"type": "SAMPLE", "percent": 0.5}],
    ],
)
def test_valid_actions(actions):
    assert validate_actions(actions) == []


@pytest.mark.parametrize(
    ("actions", "error"),
    [
        ([], "A filter needs at least one action."),
        ({"type": "DROP"}, "The actions must be a list."),
        (None, "The actions must be a list."),
        (["DROP"], "Action 1: an action must be an object with a 'type'."),
        ([{"type": "drop"}], "Action 1: unknown type 'drop'"),
        ([{}], "Action 1: unknown type None"),
        ([{"type": "DROP"}, {"type": "SAMPLE"}], "Action 2: 'percent' must be a number"),
        ([{"type": "SAMPLE", "percent": True}], "'percent' must be a number"),
        ([{"type": "SAMPLE", "percent": "0.5"}], "'percent' must be a number"),
        ([{"type": "SAMPLE", "percent": float("nan")}], "'percent' must be a number"),
        ([{"type": "SAMPLE", "percent": 1.5}], "'percent' must be from 0 to 1"),
        ([{"type": "SAMPLE", "percent": -0.1}], "'percent' must be from 0 to 1"),
        ([{"type": "SAMPLE", "percent": 50}], "not 50"),
        ([{"type": "SAMPLE", "percent": 0.5, "path": ""}], "'path' must be a field path"),
        ([{"type": "SAMPLE", "percent": 0.5, "path": 3}], "'path' must be a field path"),
        ([{"type": "SAMPLE", "percent": 0.5, "path": "a..b"}], "'path': 'a..b' has an empty"),
        ([{"type": "DROP", "percent": 0.5}], "'percent' does not belong in a DROP action."),
        ([{"type": "DROP_PROPERTIES"}], "'fields' must map"),
        ([{"type": "DROP_PROPERTIES", "fields": {}}], "'fields' must map"),
        ([{"type": "ALLOW_PROPERTIES", "fields": ["a"]}], "'fields' must map"),
        (
            [{"type": "DROP_PROPERTIES", "fields": {"integrations": ["a"]}}],
            "'fields' cannot filter 'integrations'",
        ),
        (
            [{"type": "DROP_PROPERTIES", "fields": {"properties": "email"}}],
            "'fields.properties' must be a list of field names.",
        ),
        (
            [{"type": "ALLOW_PROPERTIES", "fields": {"context": ["ip", 3]}}],
            "'fields.context' must be a list of field names.",
        ),
        (
            [{"type": "DROP_PROPERTIES", "fields": {"properties": ["a."]}}],
            "'fields.properties': 'a.' has an empty field name.",
        ),
        (
            [{"type": "DROP_PROPERTIES", "fields": {"properties": ["a\\"]}}],
            "ends with a lone '\\'",
        ),
        (
            [{"type": "DROP_PROPERTIES", "fields": {"": ["type"]}}],
            "'type' cannot be dropped; every event needs it.",
        ),
    ],
)
def test_invalid_actions(actions, error):
    errors = validate_actions(actions)
    assert any(error in message for message in errors), errors


def test_every_error_is_reported():
    errors = validate_actions(
        [
            {"type": "SAMPLE", "percent": 2, "path": ""},
            {"type": "ALLOW_PROPERTIES", "fields": {"x": ["a"], "properties": [1]}},
        ]
    )
    assert len(errors) == 4
    assert [e.split(":")[0] for e in errors] == ["Action 1", "Action 1", "Action 2", "Action 2"]


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("userId", ["userId"]),
        ("properties.address.city", ["properties", "address", "city"]),
        (r"foo\.bar", ["foo.bar"]),
        ("first name", ["first name"]),
        (r"a\\b.c", ["a\\b", "c"]),
        ("products.0", ["products", "0"]),
    ],
)
def test_parse_field_path(path, segments):
    assert parse_field_path(path) == segments


@pytest.mark.parametrize("path", ["", ".", "a.", ".a", "a..b", "a\\"])
def test_parse_field_path_errors(path):
    with pytest.raises(ValueError):
        parse_field_path(path)
