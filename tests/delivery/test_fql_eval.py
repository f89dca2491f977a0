"""FQL evaluation: operators, functions, nulls and mixed types, on Segment messages."""

import copy

import pytest

from connections.fql import parse
from delivery.fql import compile, field_getter, matches

TRACK = {
    "type": "track",
    "event": "Order Completed",
    "messageId": "ajs-next-1",
    "userId": "user-42",
    "anonymousId": "anon-7",
    "timestamp": "2024-05-01T10:00:00.000Z",
    "context": {
        "ip": "203.0.113.9",
        "library": {"name": "analytics.js", "version": "1.0"},
        "page": {"path": "/checkout", "url": "https://shop.example.com/checkout"},
        "traits": {"email": "ada@example.com"},
    },
    "properties": {
        "order_id": "50314b8e",
        "total": 27.5,
        "quantity": 3,
        "coupon": None,
        "paid": True,
        "currency": "EUR",
        "features": ["discounts", "dark-mode"],
        "products": [
            {"product_id": "p1", "price": 19.0, "category": "Games"},
            {"product_id": "p2", "price": 8.5, "category": "Books"},
        ],
        "address": {"city": "Lyon", "zip": "69001"},
        "product 1": {"price": "19.99"},
        "foo.bar": "dotted",
        "first name": "Ada",
        "empty": "",
        "nothing": [],
    },
}

IDENTIFY = {
    "type": "identify",
    "messageId": "m-2",
    "userId": "user-42",
    "traits": {"email": "ada@example.com", "plan": "Professional", "age": 36, "vip": False},
    "context": {"library": {"name": "analytics-python", "version": "2.3.0"}},
}


def ev(text, message=TRACK):
    return matches(parse(text), message)


# Segment's documented examples.

DOC_MESSAGE = {
    "event": "Button Clicked",
    "type": "track",
    "context": {"library": {"name": "analytics.js", "version": "1.0"}},
    "properties": {"features": ["discounts", "dark-mode"]},
}


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("event = 'Button Clicked'", True),
        ("event = 'Screen Tapped'", False),
        ("context.path.path = '/login'", False),
        ("type = 'identify' or type = 'track'", True),
        ("event = 'Button Clicked' and type = 'track'", True),
        ("match( context.library.version, '1.*' )", True),
        ("match( context.library.version, '2.*' )", False),
        ("type = 'track' and ( event = 'Click' or match( event, 'Button *' ) )", True),
        ("!contains( context.library.name, 'js' )", False),
        ("'dark-mode' in properties.features", True),
        ("'blink' in properties.features", False),
    ],
)
def test_documented_examples(text, result):
    assert ev(text, DOC_MESSAGE) is result


# Operators.


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("event = 'Order Completed'", True),
        ("event = 'order completed'", False),
        ("event != 'Order Completed'", False),
        ("event != 'Signed Up'", True),
        ("properties.total = 27.5", True),
        ("properties.quantity = 3", True),
        ("properties.quantity = 3.0", True),  # ints and floats are both numbers
        ("properties.quantity != 3.0", False),
        ("properties.paid = true", True),
        ("properties.paid = 1", False),  # booleans are not numbers
        ("properties.quantity = '3'", False),  # nor are strings
        ("properties.paid != 1", True),
        ("properties.features = ['discounts', 'dark-mode']", True),
        ("properties.features = ['dark-mode', 'discounts']", False),
        ("properties.address = properties.address", True),
        ("properties.nothing = []", True),
        ("properties.total > 20", True),
        ("properties.total > 27.5", False),
        ("properties.total >= 27.5", True),
        ("properties.total < 28", True),
        ("properties.total < 27.5", False),
        ("properties.total <= 27.5", True),
        ("properties.quantity > -1", True),
        ("-1 < properties.quantity", True),
        ("properties.total > properties.quantity", True),
    ],
)
def test_comparisons(text, result):
    assert ev(text) is result


@pytest.mark.parametrize(
    "text",
    [
        "properties.missing > 0",
        "properties.missing < 0",
        "properties.coupon >= 0",
        "properties.coupon <= 0",
        "null < 1",
        "properties.currency > 'A'",  # ordering compares numbers only
        "'b' > 'a'",
        "properties.paid > 0",  # booleans are not numbers
        "properties.order_id > 1",
        "properties.features > 0",
        "number('x') < 1",
    ],
)
def test_ordering_with_null_or_other_types_is_false(text):
    assert ev(text) is False


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("properties.missing = null", True),
        ("properties.coupon = null", True),  # present but null
        ("null = properties.missing", True),
        ("properties.missing != null", False),
        ("properties.total = null", False),
        ("properties.total != null", True),
        ("properties.empty = null", False),
        ("properties.missing = properties.coupon", True),
        ("properties.missing = ''", False),
        ("properties.missing = 0", False),
        ("properties.missing = false", False),
        ("properties.missing != 'x'", True),
        ("nope.deeper.still = null", True),
        ("event.length = null", True),  # a step into a string
    ],
)
def test_null_and_missing(text, result):
    assert ev(text) is result


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("type in ['track', 'identify']", True),
        ("type in ['page', 'screen']", False),
        ("!(type in ['page', 'screen'])", True),
        ("properties.quantity in [1, 2, 3]", True),
        ("properties.quantity in [3.0]", True),
        ("properties.quantity in ['3']", False),
        ("properties.paid in [1]", False),
        ("properties.paid in [true]", True),
        ("properties.missing in [null]", True),
        ("properties.missing in ['a']", False),
        ("type in []", False),
        ("'discounts' in properties.features", True),
        ("'Discounts' in properties.features", False),
        ("type in properties.missing", False),
        ("type in properties.currency", False),  # a string is not a list
        ("type in [event, type]", True),  # list items may be fields
        ("['discounts', 'dark-mode'] in [properties.features]", True),
    ],
)
def test_in(text, result):
    assert ev(text) is result


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("type = 'track' and event = 'Order Completed'", True),
        ("type = 'track' and event = 'x'", False),
        ("type = 'x' or event = 'Order Completed'", True),
        ("type = 'x' or event = 'y'", False),
        ("type = 'x' or event = 'y' or properties.paid", True),
        ("type = 'track' and properties.paid and properties.total > 1", True),
        ("!(type = 'track')", False),
        ("!!(type = 'track')", True),
        ("type = 'x' or type = 'track' and event = 'Order Completed'", True),
        ("(type = 'x' or type = 'track') and event = 'y'", False),
    ],
)
def test_boolean_operators(text, result):
    assert ev(text) is result


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("properties.paid", True),
        ("properties.missing", False),
        ("properties.coupon", False),
        ("properties.total", False),  # only the boolean true is true
        ("properties.currency", False),
        ("!properties.missing", True),
        ("!properties.currency", True),
        ("!properties.paid", False),
        ("properties.missing or properties.paid", True),
        ("properties.missing and properties.paid", False),
        ("properties.currency or properties.total", False),
        ("lowercase(event)", False),
        ("bool(properties.total)", True),
        ("true", True),
        ("false", False),
        ("null", False),
        ("1", False),
    ],
)
def test_values_used_as_conditions(text, result):
    assert ev(text) is result


# Paths.


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("context.library.name = 'analytics.js'", True),
        ("properties.products.0.product_id = 'p1'", True),
        ("properties.products.1.price = 8.5", True),
        ("properties.products.2.price = null", True),
        ("properties.products.x = null", True),
        ("properties.features.1 = 'dark-mode'", True),
        (r"properties.product\ 1.price = '19.99'", True),
        (r"properties.foo\.bar = 'dotted'", True),
        (r"properties.first\ name = 'Ada'", True),
        ("properties.foo.bar = null", True),
    ],
)
def test_paths(text, result):
    assert ev(text) is result


def test_numeric_keys_of_objects():
    assert ev("a.0 = 'zero'", {"a": {"0": "zero"}}) is True


def test_field_getter():
    assert field_getter(["properties", "products", "0", "price"])(TRACK) == 19.0
    assert field_getter(["userId"])(TRACK) == "user-42"
    assert field_getter(["userId"])("not a dict") is None
    assert field_getter(["a", "b"])({"a": 3}) is None


# Functions.


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("contains(context.library.name, 'js')", True),
        ("contains(context.library.name, 'JS')", False),
        ("contains(context.library.name, '')", True),
        ("contains(properties.features, 'dark-mode')", True),
        ("contains(properties.features, 'dark')", False),
        ("contains(properties.missing, 'a')", False),
        ("contains(properties.coupon, 'a')", False),
        ("contains(properties.total, 2)", False),
        ("contains(event, properties.missing)", False),
        ("!contains(properties.missing, 'a')", True),
        ("contains(properties.address, 'city')", False),
    ],
)
def test_contains(text, result):
    assert ev(text) is result


@pytest.mark.parametrize(
    ("value", "pattern", "result"),
    [
        # Segment's table.
        ("abcd", "a*d", True),
        ("", "*", True),
        ("abc", "ab", False),
        ("abcd", "a??d", True),
        ("abcd", "*d", True),
        ("ab*d", r"ab\*d", True),
        ("abxd", r"ab\*d", False),
        ("abCd", "ab[cC]d", True),
        ("abcd", "ab[a-z]d", True),
        ("abcd", "ab[A-Z]d", False),
        # More.
        ("abcd", "a?d", False),
        ("abcd", "ABCD", False),
        ("ab/cd", "a*", True),
        ("line\nbreak", "line*", True),
        ("abxd", "ab[^c]d", True),
        ("abcd", "ab[^c]d", False),
        ("a]b", r"a[\]]b", True),
        ("a.b", "a.b", True),
        ("axb", "a.b", False),
        ("ada@example.com", "*@example.com", True),
        ("ada@example.org", "*@example.com", False),
    ],
)
def test_match(value, pattern, result):
    message = {"v": value, "p": pattern}
    assert ev("match(v, p)", message) is result  # pattern from the message
    assert matches(["call", "match", ["path", "v"], ["lit", pattern]], message) is result


def test_match_on_other_types_is_false():
    assert ev("match(properties.missing, '*')") is False
    assert ev("match(properties.total, '*')") is False
    assert ev("match(event, properties.missing)") is False
    assert ev("!match(properties.missing, '*')") is True


def test_match_with_an_invalid_pattern_from_the_message_is_false():
    assert ev("match(v, p)", {"v": "a[", "p": "a["}) is False
    # A stored AST with an invalid literal pattern (the parser refuses them) never matches.
    assert matches(["call", "match", ["path", "v"], ["lit", "a["]], {"v": "a["}) is False


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("length(userId) = 7", True),
        ("length('ア') = 3", True),  # bytes, as Segment documents
        ("length('') = 0", True),
        ("length(properties.features) = 2", True),
        ("length(properties.nothing) = 0", True),
        ("length(properties.address) = 2", True),
        ("length(properties.missing) = 0", True),
        ("length(properties.coupon) = 0", True),
        ("length(properties.total) = null", True),
        ("length(properties.paid) = null", True),
        ("length(userId) > 0", True),
        ("length(properties.missing) > 0", False),
    ],
)
def test_length(text, result):
    assert ev(text) is result


@pytest.mark.parametrize(
    ("function", "value", "result"),
    [
        ("lowercase", "Order COMPLETED", "order completed"),
        ("uppercase", "Order completed", "ORDER COMPLETED"),
        ("snakecase", "Order Completed", "order_completed"),
        ("snakecase", "test string", "test_string"),
        ("snakecase", "orderCompleted", "order_completed"),
        ("snakecase", "HTTPServer Error", "http_server_error"),
        ("snakecase", "Product-2 viewed!", "product_2_viewed"),
        ("snakecase", "already_snake", "already_snake"),
        ("kebabcase", "Order Completed", "order-completed"),
        ("kebabcase", "test string", "test-string"),
        ("kebabcase", "order_completed", "order-completed"),
        ("titlecase", "Order Completed", "Order Completed"),
        ("titlecase", "test string", "Test String"),
        ("titlecase", "order_completed", "Order Completed"),
        ("titlecase", "ORDER completed", "Order Completed"),
        ("lowercase", "Émile", "émile"),
        ("snakecase", "", ""),
    ],
)
def test_case_functions(function, value, result):
    fn = compile(["=", ["call", function, ["path", "v"]], ["lit", result]])
    assert fn({"v": value}) is True


@pytest.mark.parametrize(
    "function", ["lowercase", "uppercase", "snakecase", "kebabcase", "titlecase"]
)
def test_case_functions_of_null_and_other_types_are_null(function):
    for value in (None, 12, True, ["A"], {"a": "B"}):
        assert ev(f"{function}(v) = null", {"v": value}) is True
    assert ev(f"{function}(missing) = null", {}) is True


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("x", "string"),
        ("", "string"),
        (1, "number"),
        (1.5, "number"),
        (True, "bool"),
        (False, "bool"),
        ([1], "list"),
        ({"a": 1}, "object"),
        (None, "null"),
    ],
)
def test_typeof(value, name):
    assert ev(f"typeof(v) = '{name}'", {"v": value}) is True


def test_typeof_missing_is_null():
    assert ev("typeof(properties.missing) = 'null'") is True
    assert ev("typeof(userId) = 'string' and length(userId) > 0") is True


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (None, False),
        (True, True),
        (False, False),
        (0, False),
        (0.0, False),
        (2, True),
        (-0.5, True),
        ("", False),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("true", True),
        ("no", True),
        ("x", True),
        ([], False),
        ([0], True),
        ({}, False),
        ({"a": 1}, True),
    ],
)
def test_bool(value, result):
    assert ev("bool(v)", {"v": value}) is result
    assert ev(f"bool(v) = {'true' if result else 'false'}", {"v": value}) is True


def test_bool_of_missing_is_false():
    assert ev("bool(properties.missing) = false") is True


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ("x", "x"),
        (12, "12"),
        (-3, "-3"),
        (12.5, "12.5"),
        (12.0, "12"),
        (True, "true"),
        (False, "false"),
        ([1, "a"], '[1,"a"]'),
        ({"a": [1]}, '{"a":[1]}'),
    ],
)
def test_string(value, result):
    fn = compile(["=", ["call", "string", ["path", "v"]], ["lit", result]])
    assert fn({"v": value}) is True


def test_string_of_null_is_null():
    assert ev("string(properties.missing) = null") is True
    assert ev("string(properties.quantity) = '3'") is True


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ("12.5", 12.5),
        ("12", 12),
        ("-3", -3),
        (" 7 ", 7),
        ("1e3", 1000.0),
        (4, 4),
        (4.5, 4.5),
        ("abc", None),
        ("", None),
        ("1_000", None),
        ("nan", None),
        ("inf", None),
        ("0x10", None),
        ("12.", None),
        (True, None),
        (None, None),
        ([1], None),
    ],
)
def test_number(value, result):
    fn = compile(["=", ["call", "number", ["path", "v"]], ["lit", result]])
    assert fn({"v": value}) is True


def test_number_compares_as_number():
    assert ev("number(properties.product\\ 1.price) > 19") is True
    assert ev("number(properties.currency) > 0") is False


def test_functions_nest():
    assert ev("length(lowercase(event)) = 15") is True
    assert ev("uppercase(snakecase(event)) = 'ORDER_COMPLETED'") is True
    assert ev("typeof(number(string(properties.total))) = 'number'") is True
    assert ev("contains(lowercase(context.traits.email), '@example.com')") is True


# Messages.


def test_realistic_track_filter():
    text = (
        "type = 'track' and event in ['Order Completed', 'Order Refunded']"
        " and properties.total >= 20 and !match(context.traits.email, '*@segment.com')"
        " and typeof(properties.coupon) = 'null' and length(properties.products) > 1"
    )
    assert ev(text) is True
    internal = copy.deepcopy(TRACK)
    internal["context"]["traits"]["email"] = "qa@segment.com"
    assert ev(text, internal) is False


def test_realistic_identify_filter():
    text = (
        "type = 'identify' and (traits.plan = 'Professional' or traits.age > 60)"
        " and !traits.vip and contains(context.library.name, 'python')"
    )
    assert ev(text, IDENTIFY) is True
    assert ev(text, TRACK) is False


def test_compiled_condition_is_reused_across_messages():
    condition = compile(parse("type = 'track' and properties.total > 10"))
    messages = [
        ({"type": "track", "properties": {"total": 11}}, True),
        ({"type": "track", "properties": {"total": 10}}, False),
        ({"type": "identify", "properties": {"total": 11}}, False),
        ({"type": "track"}, False),
        ({}, False),
        (TRACK, True),
    ]
    for _ in range(3):
        assert [condition(message) for message, _ in messages] == [r for _, r in messages]


def test_all_matches_everything():
    condition = compile(parse("all"))
    assert condition({}) is True
    assert condition(TRACK) is True


def test_results_are_booleans():
    for text in ("event", "properties.total", "lowercase(event)", "properties.paid"):
        assert type(ev(text)) is bool


def test_evaluation_does_not_change_the_message():
    before = copy.deepcopy(TRACK)
    ev("contains(properties.features, 'x') and length(properties.address) > 0")
    assert before == TRACK


def test_evaluation_never_raises_on_odd_messages():
    condition = compile(
        parse(
            "a.b.0 = 1 or length(a) > 1 or contains(a, 'x') or match(a, 'x*')"
            " or number(a) > 1 or string(a) = 'x' or snakecase(a) = 'x' or a in [1]"
        )
    )
    for message in ({}, {"a": None}, {"a": []}, {"a": {}}, {"a": [[{}]]}, {"a": float("nan")}):
        assert condition(message) is False
    assert condition("not even a dict") is False


@pytest.mark.parametrize(
    "ast",
    [
        [],
        "event",
        ["nope", 1],
        ["lit"],
        ["lit", {"a": 1}],
        ["path"],
        ["path", 1],
        ["=", ["path", "a"]],
        ["!", ["path", "a"], ["path", "b"]],
        ["and", ["path", "a"]],
        ["call", "nope", ["path", "a"]],
        ["call", "length"],
        ["call", "contains", ["path", "a"]],
    ],
)
def test_invalid_asts_are_refused_at_compile_time(ast):
    with pytest.raises(ValueError):
        compile(ast)


def test_long_chains_evaluate():
    text = " and ".join(f"properties.quantity != {i}" for i in range(4, 3000))
    assert ev(text) is True
    assert ev(text + " and properties.quantity = 2") is False
    assert ev(" or ".join(f"properties.quantity = {i}" for i in range(4, 3000)) + " or true")


@pytest.mark.parametrize(
    "text",
    [
        "[a = " * 99 + "1" + "]" * 99 + " = 1",
        "bool(a = " * 99 + "1" + ")" * 99,
        "!(a = " * 50 + "1" + ")" * 50,
    ],
)
def test_the_deepest_expressions_the_parser_accepts_compile_and_evaluate(text):
    assert compile(parse(text))({"a": 1}) in (True, False)
