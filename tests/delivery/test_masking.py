"""What is stored or shown of an exchange never holds a secret, as written or as encoded."""

from urllib.parse import urlencode

from connections.models import MASK
from delivery.adapters.base import PreparedRequest
from delivery.masking import masked_request

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
