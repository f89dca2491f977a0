"""Yellow-field encryption for HIPAA-eligible workspaces: the format (``docs/encrypted-fields.md``).

A value is serialized as JSON (so a number stays a number once decrypted), then:

- if it fits one RSAES-OAEP block (SHA-256 and MGF1 with SHA-256, no label: 190 bytes under a
  2048-bit key), the field becomes ``base64(OAEP(json))``: exactly the key's size in bytes;
- otherwise ``base64(OAEP(aes_key) || nonce || AES-256-GCM(json))``: a fresh 256-bit key wrapped
  with RSA-OAEP, a 12-byte nonce, and the ciphertext with its 16-byte tag.

The length of the decoded bytes tells the two apart, so decrypting needs only the private key.
This module is free of Django so the documented snippet and ``manage.py decrypt_fields`` share it.
"""

import base64
import hashlib
import os

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MIN_KEY_BITS = 2048
NONCE_BYTES = 12
_HASH_BYTES = 32  # SHA-256


def _oaep():
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    )


class UnusableKey(ValueError):
    """A public key that cannot be used: not PEM, not RSA, or too short."""


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """The RSA public key of a PEM text; raises ``UnusableKey`` saying why it cannot be used."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise UnusableKey(
            "This is not a PEM public key: paste the text from -----BEGIN PUBLIC KEY----- "
            "to -----END PUBLIC KEY-----."
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnusableKey("The key must be an RSA key.")
    if key.key_size < MIN_KEY_BITS:
        raise UnusableKey(f"The key has {key.key_size} bits; at least {MIN_KEY_BITS} are needed.")
    return key


def fingerprint(key: rsa.RSAPublicKey) -> str:
    """SHA-256 of the key's DER SubjectPublicKeyInfo, in hex (``openssl pkey -pubin -outform
    DER | sha256sum`` gives the same)."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _block_capacity(key) -> int:
    return key.key_size // 8 - 2 * _HASH_BYTES - 2


def encrypt(key: rsa.RSAPublicKey, value) -> str:
    plain = orjson.dumps(value)
    if len(plain) <= _block_capacity(key):
        sealed = key.encrypt(plain, _oaep())
    else:
        aes_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(NONCE_BYTES)
        sealed = key.encrypt(aes_key, _oaep()) + nonce + AESGCM(aes_key).encrypt(nonce, plain, None)
    return base64.b64encode(sealed).decode()


def decrypt(private_key: rsa.RSAPrivateKey, text: str):
    """The value ``encrypt`` sealed; raises ValueError if ``text`` is not such a value."""
    try:
        sealed = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise ValueError("not base64") from None
    size = private_key.key_size // 8
    if len(sealed) < size:
        raise ValueError("too short to be an encrypted field")
    try:
        head = private_key.decrypt(sealed[:size], _oaep())
        if len(sealed) == size:
            return orjson.loads(head)
        nonce, body = sealed[size : size + NONCE_BYTES], sealed[size + NONCE_BYTES :]
        return orjson.loads(AESGCM(head).decrypt(nonce, body, None))
    except (ValueError, InvalidTag, orjson.JSONDecodeError):
        raise ValueError("not encrypted with this key") from None


def decrypt_message(private_key: rsa.RSAPrivateKey, message):
    """A copy of ``message`` (any JSON) with every string this key can decrypt replaced by its
    value: the decrypting side needs no list of which fields were encrypted."""
    if isinstance(message, dict):
        return {key: decrypt_message(private_key, value) for key, value in message.items()}
    if isinstance(message, list):
        return [decrypt_message(private_key, item) for item in message]
    if isinstance(message, str) and len(message) >= private_key.key_size // 6:
        try:
            return decrypt(private_key, message)
        except ValueError:
            return message
    return message
