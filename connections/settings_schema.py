"""Validates an instance's settings against its catalog entry's options, and splits the secrets out.

Values arrive as JSON types (the console's form converts its text inputs first). A secret that is
absent, empty or the mask keeps its stored value, so a form can be saved without retyping secrets;
in a secret map (custom headers), each value left as the mask keeps its stored value.

``OPTION_TYPES`` is the one registry of option types: the catalog loader accepts its types and
formats, the console's settings form builds its inputs from it, and every save (console, API,
Config API, admin, Copy Settings, restore) checks values with it. An option's ``format`` (``url``,
``headers``) narrows what its values may be; an option with ``allowedHosts`` is an endpoint override, limited to
the tool's own hosts (``connections/endpoints.py``).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings

from connections import endpoints
from connections.models import MASK
from segapp.refusal import Refusal


class SettingsInvalid(Refusal):
    """One or more settings are not acceptable; ``errors`` maps each setting to its message and
    ``rules`` to the rule that refused it."""

    def __init__(self, errors: dict[str, str], rules: dict[str, str] | None = None):
        first = next(iter(errors))
        self.rules = {name: (rules or {}).get(name, "settings-invalid") for name in errors}
        super().__init__(
            f"{first}: {errors[first]}", rule=self.rules[first], field=f"settings.{first}"
        )
        self.errors = errors


class SettingRefused(ValueError):
    """A value refused by a named rule other than its type."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.rule = refusal.rule


def _text(option, value):
    if not isinstance(value, str):
        raise ValueError("Enter text.")
    return value


def _boolean(option, value):
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


def _number(option, value):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("Enter a number.")
    return value


def _select(option, value):
    choices = option.get("choices", [])
    if value not in choices:
        raise ValueError(f"Choose one of: {', '.join(map(str, choices))}.")
    return value


def _array(option, value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Enter a list of text values.")
    return value


def _map(option, value):
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("Enter pairs of names and text values.")
    return value


def _url(option, value):
    """A URL Segapp sends to (one, or each of a list); an endpoint override also names one of
    the tool's own hosts or an operator's extra host."""
    for url in value if isinstance(value, list) else [value]:
        if not url:
            continue  # no override: the tool's default host
        if "allowedHosts" in option:
            extra = settings.ENDPOINT_EXTRA_HOSTS
            if refusal := endpoints.refuse_endpoint(option, url, extra):
                raise SettingRefused(refusal)
            continue
        try:
            endpoints.parse(url)
        except ValueError as problem:
            # A secret URL (Slack's webhook) is not echoed back, even to whoever typed it.
            shown = "" if option.get("secret") else f"“{url[:57]}{'…' if len(url) > 57 else ''}”: "
            message = f"{shown}{problem}"
            raise SettingRefused(Refusal(message, rule="url-invalid")) from None


def _headers(option, value):
    for name, header_value in value.items():
        if problem := endpoints.header_problem(name, header_value):
            raise SettingRefused(Refusal(problem, rule="header-invalid"))


FORMATS = {"url": _url, "headers": _headers}


# The console's text inputs and the JSON values they stand for.


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _pairs_from_text(text: str) -> dict[str, str]:
    pairs = {}
    for line in _lines(text):
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValueError(f"Write “name: value” on each line (not “{line}”).")
        pairs[key.strip()] = value.strip()
    return pairs


def _number_from_form(value):
    if value is None:
        return None  # left empty: the default applies
    return int(value) if float(value).is_integer() else value


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _text_field(option, common, is_stored):
    if option.get("secret"):
        placeholder = "Stored. Leave empty to keep it." if is_stored else ""
        widget = forms.PasswordInput(
            render_value=False, attrs={"placeholder": placeholder, "autocomplete": "off"}
        )
        return forms.CharField(widget=widget, **common)
    if option.get("format") == "url":
        return forms.CharField(widget=forms.URLInput(), **common)
    if option["type"] == "text":
        return forms.CharField(widget=_textarea(), **common)
    return forms.CharField(**common)


def _select_field(option, common, is_stored):
    choices = [(c, c) for c in option.get("choices", [])]
    if not common["required"]:
        choices.insert(0, ("", "—"))
    return forms.ChoiceField(choices=choices, **common)


def _lines_field(hint):
    def field(option, common, is_stored):
        secret = " Values are stored secret." if option.get("secret") else ""
        common = {**common, "help_text": f"{common['help_text']} {hint}{secret}".strip()}
        return forms.CharField(widget=_textarea(), **common)

    return field


@dataclass(frozen=True)
class OptionType:
    """What an option ``type`` accepts (``check``: a JSON value, or ValueError), the console input
    that edits it (``field``, ``to_form`` and ``from_form``) and the formats that may narrow it."""

    check: Callable[[dict, Any], Any]
    field: Callable[[dict, dict, bool], forms.Field]
    to_form: Callable[[Any], Any] = lambda value: value
    from_form: Callable[[Any], Any] = lambda value: value
    formats: frozenset[str] = frozenset()
    # A boolean is always submitted (an unticked box is false), so it is never marked required.
    can_be_required: bool = True


OPTION_TYPES: dict[str, OptionType] = {
    "string": OptionType(_text, _text_field, formats=frozenset({"url"})),
    "text": OptionType(_text, _text_field),
    "boolean": OptionType(
        _boolean,
        lambda option, common, is_stored: forms.BooleanField(**common),
        can_be_required=False,
    ),
    "number": OptionType(
        _number,
        lambda option, common, is_stored: forms.FloatField(**common),
        from_form=_number_from_form,
    ),
    "select": OptionType(_select, _select_field, from_form=lambda value: value or None),
    "array": OptionType(
        _array,
        _lines_field("One per line."),
        to_form="\n".join,
        from_form=_lines,
        formats=frozenset({"url"}),
    ),
    "map": OptionType(
        _map,
        _lines_field("One “name: value” per line."),
        to_form=lambda value: "\n".join(f"{k}: {v}" for k, v in value.items()),
        from_form=_pairs_from_text,
        formats=frozenset({"headers"}),
    ),
}


def option_type(option: dict) -> OptionType:
    try:
        return OPTION_TYPES[option["type"]]
    except KeyError:
        raise ValueError(f"Unsupported setting type {option['type']!r}.") from None


def _check_value(option: dict, value):
    """The value in its proper type, or raise ValueError with a message for the user."""
    value = option_type(option).check(option, value)
    if check_format := FORMATS.get(option.get("format")):
        check_format(option, value)
    return value


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _secret_value(option: dict, value, stored):
    """A submitted secret with what the mask stands for filled in from ``stored``."""
    if isinstance(value, dict):
        # Each header keeps its stored value where it is sent back as the mask; a header left
        # out is removed.
        kept = stored if isinstance(stored, dict) else {}
        return {
            k: kept.get(k) if v == MASK else v for k, v in value.items() if v != MASK or k in kept
        }
    if value == MASK or _is_empty(value):
        return stored
    return value


def clean_settings(
    options: list[dict], submitted: dict, stored_secrets: dict, *, secrets_dropped: bool = False
) -> tuple[dict, dict]:
    """(plain settings, secret settings) for ``submitted``, or SettingsInvalid.

    Settings not submitted take their default (plain) or stored value (secrets).
    ``secrets_dropped``: the stored secrets were let go (requests now go to another host), so a
    required one must be entered again.
    """
    by_name = {option["name"]: option for option in options}
    errors = {
        name: "Not a setting of this destination." for name in submitted if name not in by_name
    }
    rules = {}
    plain, secrets = {}, {}
    for name, option in by_name.items():
        value = submitted.get(name)
        try:
            if option.get("secret"):
                value = _secret_value(option, value, stored_secrets.get(name))
                if _is_empty(value):
                    if option.get("required"):
                        errors[name] = (
                            "Enter it again: requests now go to another host, and secrets are "
                            "kept only for the host they were entered for."
                            if secrets_dropped
                            else "This setting is required."
                        )
                    continue
                secrets[name] = _check_value(option, value)
                continue
            if name not in submitted:
                value = option.get("defaultValue")
            if _is_empty(value) and option.get("required"):
                errors[name] = "This setting is required."
                continue
            if value is None:
                continue
            plain[name] = _check_value(option, value)
        except SettingRefused as refused:
            errors[name], rules[name] = str(refused), refused.rule
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise SettingsInvalid(errors, rules)
    return plain, secrets
