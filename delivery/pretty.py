"""Indented JSON for pages (event payloads, requests, previews), written one way everywhere."""

import orjson


def pretty(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def pretty_text(text: str) -> str:
    """``text`` indented if it is JSON, else as it is (a tool's answer need not be JSON)."""
    try:
        return pretty(orjson.loads(text))
    except (orjson.JSONDecodeError, TypeError):
        return text
