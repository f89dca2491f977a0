"""Validates an instance's settings against its catalog entry's options, and splits the secrets out.

Values arrive as JSON types (the console's form converts its text inputs first). A secret that is
absent, empty or the mask keeps its stored value, so a form can be saved without retyping secrets.
"""

from connections.models import MASK
from segapp.refusal import Refusal


class SettingsInvalid(Refusal):
    """One or more settings are not acceptable; ``errors`` maps each setting to its message."""

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors))
        super().__init__(
            f"{first}: {errors[first]}", rule="settings-invalid", field=f"settings.{first}"
        )
        self.errors = errors


def _check_value(option: dict, value):
    """The value in its proper type, or raise ValueError with a message for the user."""
    kind = option["type"]
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise ValueError("Enter text.")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("Must be true or false.")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("Enter a number.")
        return value
    if kind == "select":
        choices = option.get("choices", [])
        if value not in choices:
            raise ValueError(f"Choose one of: {', '.join(map(str, choices))}.")
        return value
    if kind == "array":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Enter a list of text values.")
        return value
    if kind == "map":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError("Enter pairs of names and text values.")
        return value
    raise ValueError(f"Unsupported setting type {kind!r}.")


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def clean_settings(options: list[dict], submitted: dict, stored_secrets: dict) -> tuple[dict, dict]:
    """(plain settings, secret settings) for ``submitted``, or SettingsInvalid.

    Settings not submitted take their default (plain) or stored value (secrets).
    """
    by_name = {option["name"]: option for option in options}
    errors = {
        name: "Not a setting of this destination." for name in submitted if name not in by_name
    }
    plain, secrets = {}, {}
    for name, option in by_name.items():
        value = submitted.get(name)
        if option.get("secret"):
            if value == MASK or _is_empty(value):
                value = stored_secrets.get(name)
            if _is_empty(value):
                if option.get("required"):
                    errors[name] = "This setting is required."
                continue
            try:
                secrets[name] = _check_value(option, value)
            except ValueError as exc:
                errors[name] = str(exc)
            continue
        if name not in submitted:
            value = option.get("defaultValue")
        if _is_empty(value) and option.get("required"):
            errors[name] = "This setting is required."
            continue
        if value is None:
            continue
        try:
            plain[name] = _check_value(option, value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise SettingsInvalid(errors)
    return plain, secrets
