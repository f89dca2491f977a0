"""Each instance's delivery health over the last 24 hours, in one word: the one definition every
console list shows (Connections home, Sources, Destinations, a source's page).

``health_of`` takes the instances a page already holds and reads their counters in one grouped
query and their open breakers in another, whatever the number of instances or events.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max, Sum
from django.utils import timezone

from catalog.models import ConnectionMode
from delivery.adapters import adapter_for
from delivery.models import DeliveryCounter, InstanceHealth, Outcome

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    word: str  # delivering, retrying, failing, filtered everything, cannot send, no traffic
    tone: str  # ok, warn, bad or muted: the badge's colour
    detail: str  # the sentence behind the word (the badge's title)

    @property
    def is_failing(self) -> bool:
        return self.word == "failing"


@dataclass
class _Tally:
    counts: dict
    last: dict

    def n(self, *outcomes) -> int:
        return sum(self.counts.get(outcome, 0) for outcome in outcomes)

    def latest(self, outcome):
        return self.last.get(outcome)


def health_of(instances, now: datetime | None = None) -> dict[str, Health]:
    """Health by instance id. ``instances`` need ``pk``, ``mode`` and ``metadata.slug`` loaded."""
    instances = list(instances)
    if not instances:
        return {}
    now = now or timezone.now()
    ids = [instance.pk for instance in instances]
    tallies = {pk: _Tally({}, {}) for pk in ids}
    rows = (
        DeliveryCounter.objects.filter(instance_id__in=ids, minute__gte=now - WINDOW)
        .values("instance_id", "outcome")
        .annotate(total=Sum("count"), last=Max("minute"))
        .order_by()
    )
    for row in rows:
        tally = tallies[row["instance_id"]]
        tally.counts[row["outcome"]] = row["total"]
        tally.last[row["outcome"]] = row["last"]
    open_breakers = set(
        InstanceHealth.objects.filter(pk__in=ids, open_until__gt=now).values_list("pk", flat=True)
    )
    return {
        instance.pk: _judge(instance, tallies[instance.pk], instance.pk in open_breakers)
        for instance in instances
    }


def _judge(instance, tally: _Tally, breaker_open: bool) -> Health:
    if instance.mode == ConnectionMode.CLOUD and adapter_for(instance.metadata.slug) is None:
        return Health(
            "cannot send",
            "bad",
            f"Segapp cannot send to {instance.metadata.name} in cloud mode yet.",
        )
    lost = tally.n(Outcome.DISCARDED, Outcome.DEAD_LETTERED)
    if breaker_open or lost:
        parts = [f"{lost:,} events not delivered in 24 hours"] if lost else []
        if breaker_open:
            parts.append("sending paused after repeated failures")
        return Health("failing", "bad", "; ".join(parts).capitalize() + ".")
    delivered = tally.n(Outcome.DELIVERED)
    last_retry, last_delivered = tally.latest(Outcome.RETRYING), tally.latest(Outcome.DELIVERED)
    if last_retry and (last_delivered is None or last_retry >= last_delivered):
        return Health("retrying", "warn", "The latest attempts failed and will be retried.")
    if delivered:
        return Health("delivering", "ok", f"{delivered:,} events delivered in 24 hours.")
    if tally.n(Outcome.FILTERED):
        return Health(
            "filtered everything", "warn", "Filters dropped every event of the last 24 hours."
        )
    if instance.mode != ConnectionMode.CLOUD:
        return Health("no traffic", "muted", "Device mode: the browser or app sends directly.")
    return Health("no traffic", "muted", "No events in the last 24 hours.")
