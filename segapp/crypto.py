"""Encryption of secrets at rest (destination credentials).

Keys come from ``SEGAPP_ENCRYPTION_KEYS``: comma-separated Fernet keys, newest first. Values are
encrypted with the first and decrypted with any, so a key rotates by putting a new one in front and
running ``manage.py rotate_encryption_keys``. Without the variable, one key is derived from
``SEGAPP_SECRET_KEY``.
"""

import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from segapp.env import env_list


@cache
def _fernet() -> MultiFernet:
    keys = env_list("SEGAPP_ENCRYPTION_KEYS", [])
    if not keys:
        digest = hashlib.sha256(b"segapp-secrets:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"SEGAPP_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}"
        ) from None


def encrypt_json(value: dict) -> str:
    if not value:
        return ""
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with SEGAPP_ENCRYPTION_KEYS"
        ) from None


def rotate(token: str) -> str:
    return _fernet().rotate(token.encode()).decode() if token else token
