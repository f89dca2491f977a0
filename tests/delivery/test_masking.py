"""What is stored or shown of an exchange never holds a secret, as written or as encoded."""

from urllib.parse import urlencode

from connections.models import MASK
from delivery.adapters.base import PreparedRequest
from delivery.masking import masked_request, masked_response
from delivery.sender import Response

SECRET = "s3/cr+t=key"


def test_secrets_are_masked_as_written_and_url_encoded():
    request = PreparedRequest(
        "POST",
        "https://tool.example/mp/collect?" + urlencode({"api_secret": SECRET, "id": "G-1"}),
        b'{"token": "s3/cr+t=key"}',
        ["m"],
        {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
    )
    shown = masked_request(request, {"apiSecret": SECRET}, 4000)
    assert SECRET not in str(shown) and "s3%2Fcr%2Bt%3Dkey" not in str(shown)
    assert shown["url"] == f"https://tool.example/mp/collect?api_secret={MASK}&id=G-1"
    assert shown["body"] == f'{{"token": "{MASK}"}}'
    assert shown["headers"] == {"Authorization": MASK, "Content-Type": "application/json"}


def request_with(body: str) -> PreparedRequest:
    return PreparedRequest("POST", "https://tool.example/in", body.encode(), ["m"], {})


def test_a_secret_cut_by_the_body_limit_leaves_no_part_behind():
    body = '{"note": "padding", "token": "' + SECRET + '"}'
    cut_in_secret = body.index(SECRET) + 6
    shown = masked_request(request_with(body), {"apiSecret": SECRET}, cut_in_secret)["body"]
    before = body[: body.index(SECRET)]
    assert shown.startswith(before) and set(shown[len(before) :]) == {"•"}


def test_a_response_read_up_to_its_cap_masks_a_secret_it_ends_in(settings):
    body = b"x" * 10 + SECRET[:7].encode()  # the sender stopped reading mid-secret
    settings.DELIVERY_MAX_RESPONSE_BYTES = len(body)
    response = Response(200, body, {})
    shown = masked_response(response, {"apiSecret": SECRET}, 4000)["body"]
    assert shown == "x" * 10 + MASK


def test_short_and_numeric_secrets_are_masked():
    request = request_with('{"pin": "k9z", "account": 4242, "flag": true}')
    shown = masked_request(request, {"pin": "k9z", "account": 4242, "on": True}, 4000)["body"]
    assert shown == f'{{"pin": "{MASK}", "account": {MASK}, "flag": true}}'


def test_each_value_of_a_secret_map_is_masked():
    headers = {"Authorization": "Bearer hdr-token-1", "X-Api-Key": "key-2"}
    request = PreparedRequest(
        "POST",
        "https://tool.example/in?key=key-2",
        b"echo Bearer hdr-token-1",
        ["m"],
        {**headers, "Content-Type": "application/json"},
    )
    shown = masked_request(request, {"headers": headers}, 4000)
    assert shown["url"] == f"https://tool.example/in?key={MASK}"
    assert shown["body"] == f"echo {MASK}"
    assert shown["headers"] == {
        "Authorization": MASK,
        "X-Api-Key": MASK,
        "Content-Type": "application/json",
    }


def test_a_secret_containing_another_is_masked_whole():
    shown = masked_request(
        request_with("long-secret-value"), {"a": "secret", "b": "long-secret-value"}, 4000
    )
    assert shown["body"] == MASK
