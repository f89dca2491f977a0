"""Encryption of secrets at rest (destination credentials).

Keys come from ``SEGAPP_ENCRYPTION_KEYS``: comma-separated Fernet keys, newest first. Values are
encrypted with the first and decrypted with any, so a key rotates by putting a new one in front and
running ``manage.py rotate_encryption_keys``. Without the variable, one key is derived from
``SEGAPP_SECRET_KEY``; it stays last in the list once the variable is set, so secrets written
before the first rotation stay readable until the command has re-encrypted them.
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
    digest = hashlib.sha256(b"segapp-secrets:" + settings.SECRET_KEY.encode()).digest()
    derived = base64.urlsafe_b64encode(digest).decode()
    keys = [key for key in env_list("SEGAPP_ENCRYPTION_KEYS", []) if key]
    keys += [derived] if derived not in keys else []
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
