"""The encrypted-field format (``docs/encrypted-fields.md``): round trips under keys made with
openssl, the hybrid form for long values, the key checks, and the two documented ways to decrypt."""

import base64
import io
import re
import subprocess

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.management import CommandError, call_command

from privacy import encryption
from tests.privacy.keys import load_private, openssl_key_pair
from tests.processes import REPO

VALUES = [
    "jane@example.com",
    42,
    3.5,
    True,
    {"code": "E11.9", "label": "Type 2 diabetes"},
    ["metformin", "insulin"],
    "héllo wörld ✓",
]
LONG = "Patient reports " + "intermittent chest pain and shortness of breath; " * 20


@pytest.fixture(scope="module", params=[2048, 4096])
def key_pair(request, tmp_path_factory):
    path, public = openssl_key_pair(tmp_path_factory.mktemp(f"rsa{request.param}"), request.param)
    return path, encryption.load_public_key(public), load_private(path)


@pytest.mark.parametrize("value", VALUES)
def test_short_values_fill_one_oaep_block_and_come_back_with_their_type(key_pair, value):
    _, public, private = key_pair
    sealed = encryption.encrypt(public, value)
    assert len(base64.b64decode(sealed)) == public.key_size // 8  # the single-block form
    assert encryption.decrypt(private, sealed) == value


def test_values_longer_than_a_block_use_a_wrapped_aes_key(key_pair):
    _, public, private = key_pair
    sealed = encryption.encrypt(public, LONG)
    raw = base64.b64decode(sealed)
    # the wrapped key, the nonce, the text and the GCM tag
    assert len(raw) == public.key_size // 8 + 12 + len(orjson.dumps(LONG)) + 16
    assert encryption.decrypt(private, sealed) == LONG


def test_the_same_value_encrypts_differently_every_time(key_pair):
    _, public, private = key_pair
    first, second = encryption.encrypt(public, "x"), encryption.encrypt(public, "x")
    assert first != second
    assert encryption.decrypt(private, first) == encryption.decrypt(private, second) == "x"


def test_a_tampered_long_value_does_not_decrypt(key_pair):
    _, public, private = key_pair
    raw = bytearray(base64.b64decode(encryption.encrypt(public, LONG)))
    raw[-1] ^= 1
    with pytest.raises(ValueError):
        encryption.decrypt(private, base64.b64encode(bytes(raw)).decode())


def test_another_keys_ciphertext_and_plain_text_are_left_alone(key_pair, tmp_path):
    _, public, private = key_pair
    _, other_public = openssl_key_pair(tmp_path)
    foreign = encryption.encrypt(encryption.load_public_key(other_public), "secret")
    mine = encryption.encrypt(public, "mine")
    message = {"properties": {"a": foreign, "b": mine, "c": "plain", "d": 7}}
    assert encryption.decrypt_message(private, message) == {
        "properties": {"a": foreign, "b": "mine", "c": "plain", "d": 7}
    }


def test_the_fingerprint_is_openssls_sha256_of_the_der_key(tmp_path):
    private_path, public = openssl_key_pair(tmp_path)
    der = subprocess.run(
        ["openssl", "pkey", "-in", str(private_path), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    digest = (
        subprocess.run(
            ["openssl", "dgst", "-sha256", "-r"], input=der, check=True, capture_output=True
        )
        .stdout.split()[0]
        .decode()
    )
    assert encryption.fingerprint(encryption.load_public_key(public)) == digest


def _pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    "pem, message",
    [
        ("not a key", "not a PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a PEM public key"),
        (_pem(ec.generate_private_key(ec.SECP256R1())), "must be an RSA key"),
        (_pem(rsa.generate_private_key(65537, 1024)), "has 1024 bits; at least 2048"),
    ],
)
def test_unusable_keys_are_refused_with_the_reason(pem, message):
    with pytest.raises(encryption.UnusableKey, match=message):
        encryption.load_public_key(pem)


def test_decrypt_fields_decrypts_a_received_body(key_pair, tmp_path):
    path, public, _ = key_pair
    body = {"batch": [{"type": "identify", "userId": "u1",
                       "traits": {"diagnosis": encryption.encrypt(public, {"code": "E11.9"}),
                                  "notes": encryption.encrypt(public, LONG), "plan": "pro"}}]}  # fmt: skip
    document = tmp_path / "received.json"
    document.write_bytes(orjson.dumps(body))
    out = io.StringIO()
    call_command("decrypt_fields", "--key", str(path), str(document), stdout=out)
    traits = orjson.loads(out.getvalue())["batch"][0]["traits"]
    assert traits == {"diagnosis": {"code": "E11.9"}, "notes": LONG, "plan": "pro"}


def test_decrypt_fields_says_what_is_wrong(tmp_path):
    document = tmp_path / "x.json"
    document.write_text("{}")
    with pytest.raises(CommandError, match="Cannot read the private key"):
        call_command("decrypt_fields", "--key", str(tmp_path / "missing.pem"), str(document))
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(CommandError, match="not an RSA private key"):
        call_command("decrypt_fields", "--key", str(ec_key), str(document))
    private, _ = openssl_key_pair(tmp_path)
    document.write_text("{not json")
    with pytest.raises(CommandError, match="Cannot read the JSON document"):
        call_command("decrypt_fields", "--key", str(private), str(document))


def test_the_documented_snippet_decrypts_both_forms(key_pair):
    """The Python snippet in docs/encrypted-fields.md, run as written."""
    path, public, _ = key_pair
    doc = (REPO / "docs" / "encrypted-fields.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    snippet = snippet.replace('open("private.pem", "rb")', f"open({str(path)!r}, 'rb')")
    snippet = snippet.replace("print(decrypt_field(", "found = (decrypt_field(")
    for value in ("E11.9", LONG):
        event = {"properties": {"diagnosis": encryption.encrypt(public, value)}}
        scope = {"event": event}
        exec(snippet, scope)
        assert scope["found"] == value
