import pytest

from delivery.adapters.base import PreparedRequest, Verdict
from delivery.adapters.batching import (
    ItemizedRequest,
    encode_json,
    parse_json_response,
    per_item_result,
    split,
)
from delivery.adapters.mapping import (
    basic_auth,
    compact,
    dates_to_epoch_seconds,
    dig,
    email_in,
    epoch_micros,
    epoch_ms,
    epoch_seconds,
    flat,
    iso_utc,
    page_field,
    parse_timestamp,
    person_name,
    snake_case,
    user_email,
    user_traits,
)

AT = "2024-05-01T12:00:00Z"
AT_UNIX = 1714564800


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("2024-03-01T12:00:00.250Z", 1709294400250),
        ("2024-03-01T13:00:00.250+01:00", 1709294400250),
        ("2024-03-01T12:00:00", 1709294400000),
        ("1970-01-01T00:00:00Z", 0),
        ("not a date", None),
        (None, None),
        (1709294400, None),
    ],
)
def test_epoch_ms(value, ms):
    assert epoch_ms(value) == ms


def test_epoch_micros_keeps_every_microsecond():
    assert epoch_micros("2024-03-01T12:00:00.123457Z") == 1709294400123457


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (AT, AT_UNIX),
        ("2024-05-01t14:00:00.999+02:00", AT_UNIX),
        ("2024-05-01T12:00:00z", AT_UNIX),
        ("2024-05-01", AT_UNIX - 12 * 3600),
        (AT_UNIX, AT_UNIX),
        (AT_UNIX + 0.9, AT_UNIX),
        (AT_UNIX * 1000, AT_UNIX),  # too large for seconds: milliseconds
        ("1969-12-31T23:59:59.5Z", -1),
        (True, None),
        (1e300, None),
        ("20240501", None),
        ("2024-13-01", None),
        ("soon", None),
        (None, None),
    ],
)
def test_epoch_seconds_takes_iso_strings_and_unix_times(value, seconds):
    assert epoch_seconds(value) == seconds


def test_only_the_unix_aware_conversions_take_numbers():
    assert parse_timestamp(AT_UNIX) is None and epoch_ms(AT_UNIX) is None
    assert iso_utc(AT_UNIX) == "2024-05-01T12:00:00.000Z"
    assert iso_utc("2024-05-01T14:00:00.25+02:00") == "2024-05-01T12:00:00.250Z"
    assert iso_utc("yesterday") is None


def test_dates_to_epoch_seconds_converts_dates_at_any_depth_only():
    values = {"at": AT, "n": 3, "code": "20240501", "list": [{"day": "2024-05-01"}], "s": "x"}
    assert dates_to_epoch_seconds(values) == {
        "at": AT_UNIX,
        "n": 3,
        "code": "20240501",
        "list": [{"day": AT_UNIX - 12 * 3600}],
        "s": "x",
    }


def test_user_traits_email_and_name():
    identify = {"type": "identify", "traits": {"email": "", "firstName": "Jane", "lastName": "Kim"},
                "context": {"traits": {"email": "ctx@example.com"}}}  # fmt: skip
    track = {"type": "track", "properties": {"email": "p@example.com"}, "context": {"traits": {}}}
    group = {"type": "group", "traits": {"name": "Acme"}, "context": {"traits": {"name": "Jo"}}}
    assert user_traits(identify) == identify["traits"]
    assert user_traits(identify) is not identify["traits"]
    assert user_traits(group) == {"name": "Jo"}  # a group's traits describe the group
    assert user_traits({"type": "track"}) == {}
    assert user_email(identify) == "ctx@example.com"
    assert user_email(track) == "p@example.com"
    assert user_email({"type": "alias"}) is None
    assert email_in({"email": "a@example.com"}) == "a@example.com"
    assert email_in({"email": 3}) is None and email_in(None) is None
    assert person_name(identify["traits"]) == "Jane Kim"
    assert person_name({"name": "J", "firstName": "Jane"}) == "J"
    assert person_name({}) == ""


def test_page_field_prefers_properties_to_the_context():
    message = {"properties": {"url": "https://a.example"},
               "context": {"page": {"url": "https://b.example", "title": "B"}}}  # fmt: skip
    assert page_field(message, "url") == "https://a.example"
    assert page_field(message, "title") == "B"
    assert page_field({}, "referrer") is None


def test_flat_basic_auth_and_json_bodies():
    assert flat({"a": 1, "b": {"c": 2}, "d": [3], "e": None}) == {"a": 1, "e": None}
    assert basic_auth("site", "key") == "Basic c2l0ZTprZXk="
    assert basic_auth("secret", "") == "Basic c2VjcmV0Og=="
    assert encode_json({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()
    assert parse_json_response(b'{"errors": []}') == {"errors": []}
    assert parse_json_response(b"[1]") == {} and parse_json_response(b"<html>") == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Order Completed", "order_completed"),
        ("productId", "product_id"),
        ("  Signed-up / via  SSO! ", "signed_up_via_sso"),
        ("HTTPStatus", "httpstatus"),
        ("été", "t"),
    ],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


def test_snake_case_cuts_without_a_trailing_underscore():
    assert snake_case("abc def", max_length=4) == "abc"


def test_dig_and_compact():
    message = {"context": {"device": {"id": "d"}, "ip": None}}
    assert dig(message, "context.device.id") == "d"
    assert dig(message, "context.device.id.more") is None
    assert dig(message, "context.os.name", "?") == "?"
    assert compact({"a": 0, "b": None, "c": "", "d": {}, "e": [], "f": False}) == {
        "a": 0,
        "f": False,
    }


def test_split_by_count_and_size():
    items = [(f"m{i}", {"v": "x" * 10}) for i in range(5)]  # 15 bytes each, plus a comma
    assert [len(run) for run in split(items, max_items=2, max_bytes=1000)] == [2, 2, 1]
    assert [len(run) for run in split(items, max_items=10, max_bytes=40)] == [2, 2, 1]
    assert [len(run) for run in split(items, max_items=10, max_bytes=5)] == [1, 1, 1, 1, 1]


def test_per_item_result_gives_failed_items_messages_a_discard():
    request = ItemizedRequest("POST", "http://x", b"[]", ["a", "b", "c"],
                              item_message_ids=["a", "b", "b", "c"])  # fmt: skip
    result = per_item_result(request, {2: "bad", 9: "unknown index"}, others=Verdict.DELIVERED)
    assert result.verdict == Verdict.DELIVERED and result.reason == "bad"
    assert result.per_message == {"b": (Verdict.DISCARD, "bad"), "a": (Verdict.DELIVERED, ""),
                                  "c": (Verdict.DELIVERED, "")}  # fmt: skip
    assert isinstance(request, PreparedRequest)
