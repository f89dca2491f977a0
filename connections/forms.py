"""Console forms. They turn text inputs into JSON values; the rules live in the operations."""

from django import forms

from catalog.models import DestinationMetadata


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
    """One field per option of a catalog entry. Secrets are password inputs that never echo a value;
    left empty they keep what is stored (or what Copy Settings brought)."""

    def __init__(self, metadata: DestinationMetadata, *args, stored_secrets=(), **kwargs):
        kwargs.setdefault("prefix", "settings")
        super().__init__(*args, **kwargs)
        self.options = metadata.options
        for option in self.options:
            self.fields[option["name"]] = self._field(option, option["name"] in stored_secrets)

    @staticmethod
    def _field(option: dict, is_stored: bool) -> forms.Field:
        common = {"label": option.get("label") or option["name"], "required": False,
                  "help_text": option.get("description", "")}  # fmt: skip
        kind = option["type"]
        if option.get("secret"):
            placeholder = "Stored. Leave empty to keep it." if is_stored else ""
            widget = forms.PasswordInput(
                render_value=False, attrs={"placeholder": placeholder, "autocomplete": "off"}
            )
            return forms.CharField(widget=widget, **common)
        if kind == "boolean":
            return forms.BooleanField(**common)
        if kind == "number":
            return forms.FloatField(**common)
        if kind == "select":
            return forms.ChoiceField(choices=[(c, c) for c in option.get("choices", [])], **common)
        if kind == "array":
            common["help_text"] = (common["help_text"] + " One per line.").strip()
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
        if kind == "map":
            common["help_text"] = (common["help_text"] + " One “name: value” per line.").strip()
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
        if kind == "text":
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
        return forms.CharField(**common)

    @classmethod
    def initial_from(cls, metadata: DestinationMetadata, settings: dict) -> dict:
        """Form initial values for stored plain settings (lists and maps as lines of text)."""
        initial = {}
        for option in metadata.options:
            value = settings.get(option["name"], option.get("defaultValue"))
            if option.get("secret") or value is None:
                continue
            if option["type"] == "array":
                value = "\n".join(value)
            elif option["type"] == "map":
                value = "\n".join(f"{k}: {v}" for k, v in value.items())
            initial[option["name"]] = value
        return initial

    def clean(self):
        cleaned = super().clean()
        for option in self.options:
            name = option["name"]
            if option["type"] == "map" and cleaned.get(name):
                pairs = {}
                for line in _lines(cleaned[name]):
                    key, sep, value = line.partition(":")
                    if not sep or not key.strip():
                        self.add_error(name, f"Write “name: value” on each line (not “{line}”).")
                        break
                    pairs[key.strip()] = value.strip()
                cleaned[name] = pairs
        return cleaned

    def to_settings(self) -> dict:
        """The submitted settings as JSON values, for ``connections.instances``."""
        values = {}
        for option in self.options:
            name, value = option["name"], self.cleaned_data.get(option["name"])
            if option["type"] == "array":
                value = _lines(value or "")
            elif option["type"] == "map":
                value = value or {}
            elif option["type"] == "number":
                if value is None:
                    continue
                value = int(value) if float(value).is_integer() else value
            values[name] = value
        return values
