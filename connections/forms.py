"""Console forms. They turn text inputs into JSON values; the rules live in the operations."""

from django import forms

from catalog.models import DestinationMetadata
from connections.models import TransformationTarget
from connections.settings_schema import option_type


class SourceForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(
        max_length=100, help_text="Unique in this workspace; used in URLs and by scripts."
    )


class InstanceNameForm(forms.Form):
    name = forms.CharField(max_length=100, label="Destination name")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ConnectionSettingsForm(forms.Form):
    """One field per option of a catalog entry, as its option type (``settings_schema``) builds
    it. Secrets are password inputs that never echo a value; left empty they keep what is stored
    (or what Copy Settings brought), so only a secret with nothing stored is required."""

    def __init__(self, metadata: DestinationMetadata, *args, stored_secrets=(), **kwargs):
        kwargs.setdefault("prefix", "settings")
        super().__init__(*args, **kwargs)
        self.options = metadata.options
        for option in self.options:
            self.fields[option["name"]] = self._field(option, option["name"] in stored_secrets)

    @staticmethod
    def _field(option: dict, is_stored: bool) -> forms.Field:
        kind = option_type(option)
        required = bool(option.get("required")) and kind.can_be_required and not is_stored
        common = {"label": option.get("label") or option["name"], "required": required,
                  "help_text": option.get("description", ""),
                  "error_messages": {"required": "This setting is required."}}  # fmt: skip
        return kind.field(option, common, is_stored)

    @classmethod
    def initial_from(cls, metadata: DestinationMetadata, settings: dict) -> dict:
        """Form initial values for stored settings, given masked (lists and maps as lines of
        text); a secret map shows its names with masked values, other secrets nothing."""
        initial = {}
        for option in metadata.options:
            value = settings.get(option["name"], option.get("defaultValue"))
            secret_map = option.get("secret") and isinstance(value, dict)
            if (option.get("secret") and not secret_map) or value is None:
                continue
            initial[option["name"]] = option_type(option).to_form(value)
        return initial

    def clean(self):
        cleaned = super().clean()
        self.settings = {}
        for option in self.options:
            name = option["name"]
            if name not in cleaned:
                continue  # the field's own error is shown
            try:
                value = option_type(option).from_form(cleaned[name])
            except ValueError as problem:
                self.add_error(name, str(problem))
                continue
            if value is not None:
                self.settings[name] = value
        return cleaned

    def to_settings(self) -> dict:
        """The submitted settings as JSON values, for ``connections.instances``; a number or
        choice left empty is left out, so its default applies."""
        return dict(self.settings)


def lines_input(label: str, help_text: str, rows: int = 2) -> forms.CharField:
    """An optional textarea read one entry per line."""
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


FIELD_SCOPES = ("properties", "context", "traits")


def fields_from_lines(text: str) -> dict[str, list[str]]:
    """``properties.price`` / ``context.ip`` / ``traits.email`` / ``anonymousId`` (top level), one
    per line, into a filter action's ``fields``."""
    fields: dict[str, list[str]] = {}
    for line in _lines(text):
        scope, _, rest = line.partition(".")
        key, name = (scope, rest) if scope in FIELD_SCOPES and rest else ("", line)
        fields.setdefault(key, []).append(name)
    return fields


def lines_from_fields(fields: dict) -> str:
    return "\n".join(
        f"{key}.{name}" if key else name for key, names in fields.items() for name in names
    )


class FilterForm(forms.Form):
    """A destination filter in the console's words; ``actions()`` gives the Public API's shape."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    condition = forms.CharField(
        label="If (FQL)",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text='e.g. event = "Order Completed" and properties.total > 100, or all',
    )
    sample_percent = forms.FloatField(
        label="Sample: keep this % of matching events",
        required=False,
        min_value=0,
        max_value=100,
    )
    sample_path = forms.CharField(
        label="Sample by (path, optional)",
        required=False,
        help_text="e.g. userId: the same user is always kept or always left out",
    )
    drop = forms.BooleanField(label="Drop matching events", required=False)
    drop_fields = lines_input(
        "Drop properties",
        "One per line: properties.price, context.ip, traits.email, or a top-level field",
    )
    allow_fields = lines_input(
        "Only send these properties",
        "One per line, as above; other properties of the same object are removed",
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def actions(self) -> list[dict]:
        data = self.cleaned_data
        actions = []
        if data.get("sample_percent") is not None:
            sample = {"type": "SAMPLE", "percent": data["sample_percent"] / 100}
            if data.get("sample_path"):
                sample["path"] = data["sample_path"].strip()
            actions.append(sample)
        if data.get("drop"):
            actions.append({"type": "DROP"})
        if data.get("drop_fields", "").strip():
            actions.append(
                {"type": "DROP_PROPERTIES", "fields": fields_from_lines(data["drop_fields"])}
            )
        if data.get("allow_fields", "").strip():
            actions.append(
                {"type": "ALLOW_PROPERTIES", "fields": fields_from_lines(data["allow_fields"])}
            )
        return actions

    @classmethod
    def initial_from(cls, item) -> dict:
        initial = {
            "title": item.title,
            "description": item.description,
            "condition": item.condition,
            "enabled": item.enabled,
        }
        for action in item.actions:
            kind = action.get("type")
            if kind == "SAMPLE":
                initial["sample_percent"] = round(action.get("percent", 0) * 100, 4)
                initial["sample_path"] = action.get("path", "")
            elif kind == "DROP":
                initial["drop"] = True
            elif kind == "DROP_PROPERTIES":
                initial["drop_fields"] = lines_from_fields(action.get("fields", {}))
            elif kind == "ALLOW_PROPERTIES":
                initial["allow_fields"] = lines_from_fields(action.get("fields", {}))
        return initial


def _pairs(text: str) -> dict[str, str]:
    pairs = {}
    for line in _lines(text):
        old, sep, new = line.partition("->")
        if not sep:
            raise forms.ValidationError(f"“{line}”: write old -> new.")
        pairs[old.strip()] = new.strip()
    return pairs


class TransformationForm(forms.Form):
    name = forms.CharField(max_length=200)
    target = forms.ChoiceField(label="Apply to", choices=TransformationTarget.choices)
    event_name = forms.CharField(
        label="Event name", required=False, help_text="Track event or page/screen name; empty: all"
    )
    new_event_name = forms.CharField(label="Rename the event to", required=False)
    renames = lines_input("Rename properties or traits", "One “old -> new” per line", rows=3)
    drops = lines_input("Drop properties or traits", "One name per line")
    enabled = forms.BooleanField(required=False, initial=True)

    def clean_renames(self):
        return _pairs(self.cleaned_data.get("renames", ""))

    def clean_drops(self):
        return _lines(self.cleaned_data.get("drops", ""))

    @staticmethod
    def initial_from(item) -> dict:
        return {
            "name": item.name,
            "target": item.target,
            "event_name": item.event_name,
            "new_event_name": item.new_event_name,
            "renames": "\n".join(f"{old} -> {new}" for old, new in item.renames.items()),
            "drops": "\n".join(item.drops),
            "enabled": item.enabled,
        }
