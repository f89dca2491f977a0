"""Console forms for warehouses. They turn inputs into the operations' arguments; the rules live
in ``warehouses.rules``."""

from zoneinfo import available_timezones

from django import forms

# The intervals the schedule form offers; the plan decides which of them may be chosen.
INTERVALS = [5, 10, 15, 30, 60, 120, 180, 360, 480, 720, 1440]
HOURS = range(24)


def every(minutes: int) -> str:
    """``every(90)`` → "every 90 minutes", ``every(120)`` → "every 2 hours"."""
    if minutes % 60:
        return f"every {minutes} minutes"
    hours = minutes // 60
    return "every hour" if hours == 1 else f"every {hours} hours"


class WarehouseNameForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        label="Warehouse name",
        help_text="How the console names it; left empty, the catalog's name.",
    )


class ConnectSourceForm(forms.Form):
    source = forms.ChoiceField(label="Source to connect")

    def __init__(self, sources, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(s.pk, f"{s.name} ({s.slug})") for s in sources]


class ScheduleForm(forms.Form):
    """An interval, or Segment's advanced schedule: the hours of the day to sync at, in a time
    zone."""

    every_minutes = forms.TypedChoiceField(
        label="Sync", coerce=int, empty_value=None, required=False
    )
    advanced_enabled = forms.BooleanField(
        label="Sync only at the hours ticked below (advanced schedule)", required=False
    )
    hours = forms.TypedMultipleChoiceField(
        label="Hours",
        choices=[(h, f"{h:02d}:00") for h in HOURS],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    timezone = forms.ChoiceField(
        label="Time zone", choices=[(z, z) for z in sorted(available_timezones())], initial="UTC"
    )

    def __init__(self, plan_minutes: int, intervals: list[int], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["every_minutes"].choices = [
            ("", f"The plan's schedule ({every(plan_minutes)})"),
            *[(m, every(m).capitalize()) for m in intervals],
        ]

    @staticmethod
    def initial_from(warehouse) -> dict:
        schedule = warehouse.advanced_schedule or {}
        return {
            "every_minutes": warehouse.sync_every_minutes or "",
            "advanced_enabled": warehouse.advanced_schedule_enabled,
            "hours": [t["hourOfDay"] for t in schedule.get("times", []) if t["enabled"]],
            "timezone": schedule.get("timezone") or "UTC",
        }

    def advanced(self) -> dict:
        """Segment's ``{"times": [{"hourOfDay", "enabled"}], "timezone"}``."""
        chosen = set(self.cleaned_data["hours"])
        return {
            "times": [{"hourOfDay": h, "enabled": h in chosen} for h in HOURS],
            "timezone": self.cleaned_data["timezone"],
        }
