import pytest

from delivery.adapters.base import PreparedRequest, Verdict
from delivery.adapters.batching import ItemizedRequest, per_item_result, split
from delivery.adapters.mapping import compact, dig, epoch_micros, epoch_ms, snake_case


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
