"""Free-form JSON the API stores (settings, filter actions, Config API values): PostgreSQL's
``jsonb`` cannot hold a NUL character, and an unpaired surrogate (which a JSON ``\\u`` escape can
still spell) is not Unicode at all. Either is refused by field (422), as DRF's ``CharField``
already refuses both, instead of failing in the database (500)."""

import re

from rest_framework import serializers

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_text(value) -> bool:
    """Whether a key or string anywhere inside ``value`` holds NUL or an unpaired surrogate.

    Walked with a stack, not recursion: a body can nest deeper than Python's recursion limit."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and _UNSTORABLE.search(item):
            return True
    return False


def check_storable(value):
    if has_unstorable_text(value):
        raise serializers.ValidationError(
            "Text here may not hold NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) characters."
        )
    return value


class StorableDictField(serializers.DictField):
    default_validators = [check_storable]


class StorableJSONField(serializers.JSONField):
    default_validators = [check_storable]
