"""Matchers: every built-in one against keys and values it must and must not match (kept in
``fixtures/matchers.json``), custom key and value matchers, and the rules a custom matcher is
saved under, in the console's operations too."""

import json
from pathlib import Path

import pytest

from privacy import custom_matchers, matcher_rules, matchers
from privacy.models import Matcher
from segapp.models import AuditEntry
from segapp.refusal import Refusal

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "matchers.json").read_text())
BY_NAME = {m.name: m for m in matchers.BUILTIN}


def cases(section: str, kind: str):
    return [
        pytest.param(name, item, id=f"{name}:{item}")
        for name, expected in FIXTURES[section].items()
        for item in expected[kind]
    ]


def test_every_builtin_matcher_has_keys_it_must_and_must_not_match():
    assert set(FIXTURES["keys"]) == matchers.BUILTIN_NAMES
    valued = {m.name for m in matchers.BUILTIN if m.value}
    assert set(FIXTURES["values"]) == valued
    assert valued == {"email", "phone", "credit card", "social security number", "ip"}


@pytest.mark.parametrize(("name", "path"), cases("keys", "match"))
def test_builtin_matcher_matches_its_keys(name, path):
    suggestion = matchers.suggest(path)
    assert suggestion.matcher == name
    assert suggestion.classification == BY_NAME[name].classification


@pytest.mark.parametrize(("name", "path"), cases("keys", "other"))
def test_builtin_matcher_leaves_lookalike_keys_alone(name, path):
    assert matchers.suggest(path).matcher != name


@pytest.mark.parametrize(("name", "value"), cases("values", "match"))
def test_builtin_matcher_matches_its_values(name, value):
    suggestion = matchers.suggest("properties.note", [value])
    assert suggestion.matcher == name
    assert suggestion.classification == BY_NAME[name].classification


@pytest.mark.parametrize(("name", "value"), cases("values", "other"))
def test_builtin_matcher_leaves_lookalike_values_alone(name, value):
    assert matchers.suggest("properties.note", [value]).matcher != name


def test_segments_default_colours():
    red = {m.name for m in matchers.BUILTIN if m.classification == matchers.RED}
    assert red == {"social security number", "password", "visa", "veteran", "disability",
                   "credit card", "passport", "token"}  # fmt: skip
    assert all(m.classification == matchers.YELLOW for m in matchers.BUILTIN if m.name not in red)


@pytest.mark.parametrize(
    "key", ["firstName", "first_name", "First Name", "first-name", "FirstName"]
)
def test_snake_camel_kebab_case_and_spaces_read_alike(key):
    assert matchers.key_words(key) == ("first", "name")
    assert matchers.normalized_key(key) == "first name"


def test_a_field_no_matcher_matches_is_suggested_green_without_a_matcher():
    assert matchers.suggest("properties.revenue", ["42.50"]) == matchers.Suggestion("green", "")


def test_the_strictest_matcher_wins():
    # The key says phone (Yellow), the value is a card number (Red).
    assert matchers.suggest("traits.phone", ["4111 1111 1111 1111"]) == matchers.Suggestion(
        "red", "credit card"
    )


def test_a_whole_key_match_beats_a_partial_one_of_the_same_colour():
    # "email address" is the email matcher's whole key, and ends with the address matcher's.
    assert matchers.suggest("traits.emailAddress").matcher == "email"


def test_values_are_examined_only_up_to_the_cap():
    long = "a" * matchers.MAX_VALUE_LENGTH + "jane@example.com"
    assert matchers.suggest("properties.note", [long]).matcher == ""


# Custom matchers.


def custom_cases(kind: str, values_key: str):
    return [
        pytest.param(spec, item, id=f"{spec['name']}:{item}")
        for spec in FIXTURES["custom"]
        for item in spec.get(values_key if kind == "value" else kind, [])
    ]


def compiled(spec: dict) -> list[matchers.Matcher]:
    proposal = matcher_rules.Proposal(spec["name"], spec["classification"], spec["match_on"], spec["pattern"])  # fmt: skip
    assert matcher_rules.refuse_matcher(proposal) is None
    own = matchers.custom(spec["name"], spec["classification"], spec["match_on"], spec["pattern"])
    return [*matchers.BUILTIN, own]


@pytest.mark.parametrize(("spec", "path"), custom_cases("match", ""))
def test_custom_key_matcher_matches_its_name_synonyms_and_regex(spec, path):
    assert matchers.suggest(path, (), compiled(spec)) == matchers.Suggestion(
        spec["classification"], spec["name"]
    )


@pytest.mark.parametrize(("spec", "path"), custom_cases("other", ""))
def test_custom_key_matcher_leaves_other_keys_alone(spec, path):
    assert matchers.suggest(path, (), compiled(spec)).matcher != spec["name"]


@pytest.mark.parametrize(("spec", "value"), custom_cases("value", "values"))
def test_custom_value_matcher_matches_its_values(spec, value):
    assert matchers.suggest("properties.ref", [value], compiled(spec)).matcher == spec["name"]


@pytest.mark.parametrize(("spec", "value"), custom_cases("value", "other_values"))
def test_custom_value_matcher_leaves_other_values_alone(spec, value):
    assert matchers.suggest("properties.ref", [value], compiled(spec)).matcher != spec["name"]


def test_a_key_pattern_splits_names_from_regexes_with_commas_inside():
    names, regexes = matchers.key_items(r"SIN, Social Insurance No, /^soc(ial)?,? ins/, /a\/b/")
    assert names == ["SIN", "Social Insurance No"]
    assert regexes == ["^soc(ial)?,? ins", r"a\/b"]


@pytest.mark.parametrize(
    ("match_on", "pattern", "message"),
    [
        ("value", "abc(", "Not a valid regular expression at position 4: missing ), unterminated subpattern."),
        ("value", "[a-", "at position 1: unterminated character set"),
        ("key", "SIN, /abc(/", "/abc(/: not a valid regular expression at position 4"),
        ("value", "(a+)+$", "a repeated group holds another repetition"),
        ("value", r"(\w+\.)*example", "a repeated group holds another repetition"),
        ("value", "^(a|ab)*c", "a repeated group holds alternatives"),
        ("value", "(?=secret)", "lookahead and lookbehind are not supported"),
        ("value", r"(\d)\1", "backreferences are not supported"),
        ("value", ".*a.*b.*c.*d.*e", "at most 4 open-ended repetitions"),
        ("value", "x" * 201, "Keep the pattern to 200 characters."),
        ("value", "  ", "Enter a regular expression."),
        ("key", " , ", "Enter at least one key name."),
        ("key", "//", "The regular expression is empty."),
    ],
)  # fmt: skip
def test_a_bad_pattern_is_refused_with_a_clear_message(match_on, pattern, message):
    refusal = matcher_rules.refuse_matcher(
        matcher_rules.Proposal("Thing", "red", match_on, pattern)
    )
    assert refusal is not None and refusal.field == "pattern"
    assert message.lower() in refusal.message.lower()


@pytest.mark.parametrize(
    "pattern", [r"^\d{3}-\d{3}-\d{3}$", r"[\w.+-]+@corp\.example", r"(\d{3}-){2}\d{4}", "ab|cd"]
)
def test_safe_value_patterns_are_accepted(pattern):
    assert (
        matcher_rules.refuse_matcher(matcher_rules.Proposal("Thing", "red", "value", pattern))
        is None
    )


@pytest.mark.parametrize(
    ("proposal", "taken", "rule"),
    [
        (matcher_rules.Proposal("  ", "red", "key", "a"), [], "matcher_name"),
        (matcher_rules.Proposal("Email", "red", "key", "a"), [], "matcher_name_taken"),
        (matcher_rules.Proposal("sin", "red", "key", "a"), ["SIN"], "matcher_name_taken"),
        (matcher_rules.Proposal("SIN", "green", "key", "a"), [], "matcher_classification"),
        (matcher_rules.Proposal("SIN", "red", "regex", "a"), [], "matcher_match_on"),
    ],
)
def test_matcher_rules_refuse_by_name(proposal, taken, rule):
    assert matcher_rules.refuse_matcher(proposal, taken).rule == rule


def test_the_hundredth_custom_matcher_is_the_last():
    assert matcher_rules.refuse_another_matcher(99) is None
    refusal = matcher_rules.refuse_another_matcher(100)
    assert refusal.rule == "custom_matcher_limit" and "up to 100" in refusal.message


# The operations.


def add(workspace, owner, name="SIN", **extra):
    spec = {"classification": "red", "match_on": "key", "pattern": "Social Insurance Number"}
    return custom_matchers.create_matcher(workspace, owner, name=name, **{**spec, **extra})


def test_adding_a_matcher_is_audited_and_refusals_change_nothing(workspace, owner):
    matcher = add(workspace, owner)
    entry = AuditEntry.objects.get(action="privacy.matcher_created")
    assert (
        entry.object_id == str(matcher.pk) and entry.after["pattern"] == "Social Insurance Number"
    )
    with pytest.raises(Refusal) as refused:
        add(workspace, owner, name="sin")
    assert refused.value.rule == "matcher_name_taken"
    with pytest.raises(Refusal):
        add(workspace, owner, name="Bad", match_on="value", pattern="(a+)+")
    assert Matcher.objects.filter(workspace=workspace).count() == 1


def test_a_workspace_keeps_at_most_100_custom_matchers(workspace, owner):
    Matcher.objects.bulk_create(
        Matcher(workspace=workspace, name=f"m{n}", classification="red", pattern=f"k{n}")
        for n in range(100)
    )
    with pytest.raises(Refusal) as refused:
        add(workspace, owner)
    assert refused.value.rule == "custom_matcher_limit"
    custom_matchers.delete_matcher(Matcher.objects.get(name="m0"), owner)
    assert add(workspace, owner).pk


def test_editing_and_deleting_a_matcher_is_audited(workspace, owner):
    matcher = add(workspace, owner)
    custom_matchers.update_matcher(
        matcher, owner, name="SIN", classification="yellow", match_on="key", pattern="SocInsNo"
    )
    entry = AuditEntry.objects.get(action="privacy.matcher_updated")
    assert entry.before["classification"] == "red" and entry.after["classification"] == "yellow"
    custom_matchers.delete_matcher(matcher, owner)
    assert AuditEntry.objects.filter(action="privacy.matcher_deleted").count() == 1
    assert not Matcher.objects.exists()
