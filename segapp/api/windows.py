"""Query parameters the metrics endpoints share: a time window with Segment's granularity rules,
and list parameters however a client spells them.

Segment documents, per endpoint, how long a window may be and how far back it may start for
each granularity; an endpoint names its table (``Granularity`` rows) and its spelling of the
granularity names (``MINUTE`` or ``minute``), and gets the same checks and the same 422s."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from rest_framework import serializers


@dataclass(frozen=True)
class Granularity:
    step: str  # the bucket, as Django's Trunc names it: "minute", "hour", "day"
    default_span: timedelta  # used when startTime is not given
    longest: timedelta
    oldest: timedelta  # how far back a window may start

    @property
    def size(self) -> timedelta:
        return {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}.get(
            self.step, timedelta(days=1)
        )

    def floor(self, at: datetime) -> datetime:
        at = at.astimezone(UTC).replace(second=0, microsecond=0)
        if self.step in ("hour", "day"):
            at = at.replace(minute=0)
        if self.step == "day":
            at = at.replace(hour=0)
        return at

    def buckets(self, start: datetime, end: datetime) -> list[datetime]:
        """The start of every bucket the window ``[start, end)`` touches, oldest first."""
        found, at = [], self.floor(start)
        while at < end:
            found.append(at)
            at += self.size
        return found


def iso_utc(at: datetime) -> str:
    """A bucket's or window's time as Segment writes it: ``2024-01-31T10:00:00Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Slack for a client whose clock or request is a little behind ours.
_SLACK = timedelta(minutes=1)


class WindowQuerySerializer(serializers.Serializer):
    """``startTime``, ``endTime`` and ``granularity``, checked against ``GRANULARITIES``.

    Validated data carries both times (defaults filled in) and ``window``, the ``Granularity``.
    Subclasses set ``GRANULARITIES`` and, where Segment requires them, ``REQUIRED = True``."""

    GRANULARITIES: dict[str, Granularity] = {}
    DEFAULT_GRANULARITY: str | None = None
    REQUIRED = False

    def get_fields(self):
        fields = super().get_fields()
        fields["startTime"] = serializers.DateTimeField(required=self.REQUIRED)
        fields["endTime"] = serializers.DateTimeField(required=self.REQUIRED)
        fields["granularity"] = serializers.ChoiceField(
            list(self.GRANULARITIES),
            required=self.REQUIRED,
            **({} if self.REQUIRED else {"default": self.DEFAULT_GRANULARITY}),
        )
        return fields

    def validate(self, data):
        name = data["granularity"]
        window = self.GRANULARITIES[name]
        now = timezone.now()
        end = data.get("endTime") or now
        start = data.get("startTime") or end - window.default_span
        if start >= end:
            raise serializers.ValidationError({"startTime": "startTime must be before endTime."})
        if end - start > window.longest + _SLACK:
            raise serializers.ValidationError(
                {"startTime": f"With {name} granularity a window is at most {window.longest}."}
            )
        if start < now - window.oldest - _SLACK:
            raise serializers.ValidationError(
                {
                    "startTime": f"With {name} granularity a window starts at most {window.oldest} ago."
                }
            )
        return {**data, "startTime": start, "endTime": end, "window": window}


def query_list(params, *names: str) -> list[str]:
    """Every value of a list parameter, in order, whichever way it is spelled: repeated
    (``groupBy=a&groupBy=b``), comma-delimited (``groupBy=a,b``, as Segment documents it), or
    as the official SDK's ``qs`` serializer writes arrays (``groupBy[0]=a``, ``groupBy[]=a``).
    ``names`` are the spellings of one parameter (``filter.eventName``, ``filter[eventName]``)."""
    pattern = re.compile("|".join(rf"{re.escape(n)}(\[\d*\])?" for n in names))
    values = []
    for key in params:
        if pattern.fullmatch(key):
            for raw in params.getlist(key):
                values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def filter_list(params, name: str) -> list[str]:
    """``filter.<name>`` or, as the SDK's ``qs`` writes a filter object, ``filter[<name>][0]``."""
    return query_list(params, f"filter.{name}", f"filter[{name}]")
