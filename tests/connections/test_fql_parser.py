"""The FQL parser: every construct's AST, and errors that say what and where."""

import json
import pickle

import pytest

from connections.fql import FUNCTIONS, FqlError, GlobError, glob_regex, parse

E = ["path", "event"]


def lit(value):
    return ["lit", value]


# Operators, precedence, parentheses.


@pytest.mark.parametrize("op", ["=", "!=", ">", ">=", "<", "<="])
def test_comparison_operators(op):
    assert parse(f"properties.total {op} 10") == [op, ["path", "properties", "total"], lit(10)]


def test_comparisons_need_no_spaces():
    assert parse("a>=1") == [">=", ["path", "a"], lit(1)]
    assert parse("a!=-1") == ["!=", ["path", "a"], lit(-1)]
    assert parse("a<b") == ["<", ["path", "a"], ["path", "b"]]


def test_and_or_not():
    assert parse("a = 1 and b = 2") == [
        "and",
        ["=", ["path", "a"], lit(1)],
        ["=", ["path", "b"], lit(2)],
    ]
    assert parse("a = 1 or b = 2") == [
        "or",
        ["=", ["path", "a"], lit(1)],
        ["=", ["path", "b"], lit(2)],
    ]
    assert parse("!a") == ["!", ["path", "a"]]
    assert parse("!!a") == ["!", ["!", ["path", "a"]]]


def test_and_binds_tighter_than_or():
    a, b, c = (["=", ["path", name], lit(1)] for name in "abc")
    assert parse("a = 1 or b = 1 and c = 1") == ["or", a, ["and", b, c]]
    assert parse("a = 1 and b = 1 or c = 1") == ["or", ["and", a, b], c]


def test_operands_of_one_operator_are_flattened():
    assert parse("a and b and c") == ["and", ["path", "a"], ["path", "b"], ["path", "c"]]
    assert parse("a or b or c") == ["or", ["path", "a"], ["path", "b"], ["path", "c"]]


def test_not_binds_tighter_than_comparison():
    assert parse("!a = true") == ["=", ["!", ["path", "a"]], lit(True)]
    assert parse("!contains(a, 'x') and b") == [
        "and",
        ["!", ["call", "contains", ["path", "a"], lit("x")]],
        ["path", "b"],
    ]


def test_parentheses_group():
    assert parse("(a or b) and c") == ["and", ["or", ["path", "a"], ["path", "b"]], ["path", "c"]]
    assert parse("a or (b and c)") == ["or", ["path", "a"], ["and", ["path", "b"], ["path", "c"]]]
    assert parse("((a))") == ["path", "a"]
    assert parse("!(a = 1)") == ["!", ["=", ["path", "a"], lit(1)]]


def test_segments_documented_examples():
    assert parse("type = 'track' and ( event = 'Click' or match( event, 'Button *' ) )") == [
        "and",
        ["=", ["path", "type"], lit("track")],
        ["or", ["=", E, lit("Click")], ["call", "match", E, lit("Button *")]],
    ]
    assert parse("!( type in ['track', 'identify'] )") == [
        "!",
        ["in", ["path", "type"], ["list", lit("track"), lit("identify")]],
    ]
    assert parse("'dark-mode' in properties.features") == [
        "in",
        lit("dark-mode"),
        ["path", "properties", "features"],
    ]


def test_whitespace_and_newlines_are_ignored():
    assert parse("  a\n=\t1 \n") == ["=", ["path", "a"], lit(1)]


# Literals.


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"Order Completed"', "Order Completed"),
        ("'Order Completed'", "Order Completed"),
        ('""', ""),
        ("''", ""),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        (r'"a\"b"', 'a"b'),
        (r"'a\'b'", "a'b"),
        (r"'a\\b'", "a\\b"),
        (r"'ab\*d'", r"ab\*d"),  # other escapes stay for match()'s glob
        ("'ア'", "ア"),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("12.5", 12.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(text, value):
    node = parse(f"x = {text}")
    assert node == ["=", ["path", "x"], ["lit", value]]
    assert type(node[2][1]) is type(value)


def test_list_literals():
    assert parse("x in []") == ["in", ["path", "x"], ["list"]]
    assert parse("x in [1, 'a', true, null, -2.5]") == [
        "in",
        ["path", "x"],
        ["list", lit(1), lit("a"), lit(True), lit(None), lit(-2.5)],
    ]
    assert parse("x = [a.b, [1]]") == [
        "=",
        ["path", "x"],
        ["list", ["path", "a", "b"], ["list", lit(1)]],
    ]


def test_in_takes_a_list_a_field_or_a_call():
    assert parse("x in y")[2] == ["path", "y"]
    assert parse("x in (['a'])")[2] == ["list", lit("a")]
    assert parse("x in lowercase(y)")[2] == ["call", "lowercase", ["path", "y"]]


# Paths.


def test_paths():
    assert parse("userId") == ["path", "userId"]
    assert parse("context.library.name") == ["path", "context", "library", "name"]
    assert parse("_x.a-b.c_d") == ["path", "_x", "a-b", "c_d"]


def test_array_index_segments():
    assert parse("properties.products.0.id") == ["path", "properties", "products", "0", "id"]
    assert parse("a.10") == ["path", "a", "10"]


def test_escapes_in_paths():
    assert parse(r"properties.product\ 1.price") == ["path", "properties", "product 1", "price"]
    assert parse(r"properties.foo\.bar") == ["path", "properties", "foo.bar"]
    assert parse(r"properties.first\ name") == ["path", "properties", "first name"]
    assert parse(r"properties.\$price") == ["path", "properties", "$price"]
    assert parse(r"\$email") == ["path", "$email"]
    assert parse(r"a.b\\c") == ["path", "a", "b\\c"]


def test_keywords_after_a_dot_or_escaped_are_field_names():
    assert parse("properties.and = properties.in") == [
        "=",
        ["path", "properties", "and"],
        ["path", "properties", "in"],
    ]
    assert parse(r"\true") == ["path", "true"]


def test_all():
    assert parse("all") == ["all"]
    assert parse("  all\n") == ["all"]
    # Only the whole expression: elsewhere "all" is a field.
    assert parse("all = 1") == ["=", ["path", "all"], lit(1)]


# Functions.


CALLS = {
    "contains": "contains(properties.name, 'x')",
    "match": "match(event, 'Order *')",
    "length": "length(userId)",
    "lowercase": "lowercase(event)",
    "uppercase": "uppercase(event)",
    "snakecase": "snakecase(event)",
    "kebabcase": "kebabcase(event)",
    "titlecase": "titlecase(event)",
    "typeof": "typeof(userId)",
    "bool": "bool(properties.flag)",
    "string": "string(properties.total)",
    "number": "number(properties.total)",
}


def test_every_function_is_covered():
    assert set(CALLS) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_with_their_arity(name):
    node = parse(CALLS[name])
    assert node[:2] == ["call", name]
    assert len(node) - 2 == FUNCTIONS[name]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_with_a_wrong_arity(name):
    arity = FUNCTIONS[name]
    for count in (arity - 1, arity + 1):
        args = ", ".join(["'a'"] * count)
        text = f"x and  {name}({args})"
        with pytest.raises(FqlError) as raised:
            parse(text)
        assert raised.value.position == text.index(name)
        assert f"'{name}' takes {arity} argument" in raised.value.message
        assert f"but {count} " in raised.value.message


def test_function_arguments_are_expressions():
    assert parse("bool(a = 1)") == ["call", "bool", ["=", ["path", "a"], lit(1)]]
    assert parse("length( lowercase ( x ) ) > 0") == [
        ">",
        ["call", "length", ["call", "lowercase", ["path", "x"]]],
        lit(0),
    ]


@pytest.mark.parametrize("text", ["properties.length(x)", r"\length(x)"])
def test_a_dotted_path_or_an_escaped_name_is_not_a_function(text):
    with pytest.raises(FqlError) as raised:
        parse(text)
    assert raised.value.position == text.index("(")


def test_ast_is_json():
    text = "type = 'track' and (length(userId) > 0 or !(x in [1, 2.5, null, true]))"
    ast = parse(text)
    assert json.loads(json.dumps(ast)) == ast


# Errors: each points at the exact position with a useful message.


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "The expression is empty"),
        ("   ", 0, "The expression is empty"),
        ('event = "Order', 8, "Unterminated string"),
        ("event = 'Order", 8, "Unterminated string"),
        ("event = ", 7, "Expected a value after '=', but the expression ends"),
        ('event == "A"', 6, "write '=' instead of '=='"),
        ("a !== 1", 2, "'!=' instead of '!=='"),
        ("a <> 1", 2, "'!=' instead of '<>'"),
        ("a = 1 && b = 2", 6, "Write 'and' instead of '&&'"),
        ("a = 1 || b = 2", 6, "Write 'or' instead of '||'"),
        ("a = 1 & b", 6, "Write 'and' instead of '&'"),
        ("a = #", 4, "Unexpected character '#'"),
        ("properties.$price = 1", 11, "Expected a field name after '.'"),
        ("properties. total", 11, "Expected a field name after '.'"),
        ("properties.", 11, "Expected a field name after '.'"),
        ("x\\", 2, "Expected a character to escape"),
        ("(a = 1", 6, "Expected ')' to close the '(' opened at position 0"),
        ("(a = 1 b", 7, "Expected ')' to close the '(' opened at position 0, found 'b'"),
        ("a = 1)", 5, "This ')' has no matching '('"),
        ("a = 1 b = 2", 6, "Expected 'and', 'or' or the end of the expression, found 'b'"),
        ("a = 1 AND b = 2", 6, "keywords are lowercase: 'and'"),
        ("x not in [1]", 2, "negate with '!'"),
        ("a = b = c", 6, "Comparisons do not chain"),
        ("a = b in c", 6, "Comparisons do not chain"),
        ("a and", 5, "Expected a value after 'and', but the expression ends"),
        ("and a", 0, "Expected a value, found 'and'"),
        ("a or or b", 5, "Expected a value after 'or', found 'or'"),
        ("!", 1, "Expected a value after '!'"),
        ("()", 1, "Expected a value after '(', found ')'"),
        ("x in 'abc'", 5, "'in' needs a list on its right"),
        ("x in 3", 5, "'in' needs a list on its right"),
        ("x in [1, 2", 10, "Expected ',' or ']' in the list opened at position 5"),
        ("x in [1,]", 8, "Expected a value after ','"),
        ("x in [1 2]", 8, "Expected ',' or ']'"),
        ("a = foo(b)", 4, "Unknown function 'foo'"),
        ("contains(a, 'b'", 15, "Expected ',' or ')' in the call to 'contains' at position 0"),
        ("contains(a,)", 11, "Expected a value after ','"),
        ("length()", 0, "'length' takes 1 argument, but 0 were given"),
        ("match(a, 'x[b')", 11, "Invalid glob pattern: '[' is never closed"),
        ("match(a, 'x[-b]')", 12, "escape '-' inside '[...]'"),
        ("match(a, 'x[b-a]')", 14, "the range 'b-a' is reversed"),
        (r"match(a, 'ab\\')", 12, "unfinished escape"),
        ("a = 1.", 6, "Expected a digit after '.'"),
        ("a = 1.5.2", 7, "Unexpected '.' after a number"),
        ("a = -", 5, "Expected a digit after '-'"),
        ("a = 12abc", 6, "Unexpected character 'a' in a number"),
        ("a = 1 ]", 6, "found ']'"),
    ],
)
def test_errors(text, position, message):
    with pytest.raises(FqlError) as raised:
        parse(text)
    error = raised.value
    assert error.position == position, str(error)
    assert message in error.message, str(error)


def test_error_string_points_at_the_position():
    with pytest.raises(FqlError) as raised:
        parse("event = ")
    assert str(raised.value) == (
        "Expected a value after '=', but the expression ends at position 7:\n  event = \n         ^"
    )


def test_error_string_on_a_later_line():
    with pytest.raises(FqlError) as raised:
        parse("type = 'track'\nand\tevent == 'A'")
    error = raised.value
    assert error.position == 25
    assert str(error).splitlines()[1:] == ["  and\tevent == 'A'", "     \t      ^"]


def test_error_is_a_value_error_and_pickles():
    with pytest.raises(ValueError):
        parse("a =")
    error = FqlError("Boom", 3, "abcdef")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.position, str(copy)) == ("Boom", 3, str(error))


def test_non_string_expression():
    with pytest.raises(FqlError) as raised:
        parse(None)
    assert raised.value.position == 0


def test_nesting_is_bounded():
    assert parse("(" * 50 + "a" + ")" * 50) == ["path", "a"]
    with pytest.raises(FqlError) as raised:
        parse("(" * 500 + "a" + ")" * 500)
    assert "nests more than" in raised.value.message
    assert raised.value.position == 100
    with pytest.raises(FqlError):
        parse("!" * 500 + "a")


# Globs.


@pytest.mark.parametrize(
    ("pattern", "regex"),
    [
        ("a*d", r"(?s)a.*d"),
        ("a**", r"(?s)a.*"),
        ("a??d", r"(?s)a..d"),
        ("ab[cC]d", r"(?s)ab[cC]d"),
        ("[^a-z]", r"(?s)[^a-z]"),
        (r"ab\*d", r"(?s)ab\*d"),
        (r"[\-\]]", r"(?s)[\-\]]"),
        ("a.b", r"(?s)a\.b"),
    ],
)
def test_glob_regex(pattern, regex):
    assert glob_regex(pattern) == regex


@pytest.mark.parametrize(("pattern", "offset"), [("[", 0), ("a[]", 2), ("x\\", 1), ("[a-]", 3)])
def test_glob_errors(pattern, offset):
    with pytest.raises(GlobError) as raised:
        glob_regex(pattern)
    assert raised.value.offset == offset
