import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """A public object id shaped like Segment's: 22 base62 characters (~131 random bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))
