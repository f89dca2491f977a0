"""Where source transformations and destination filters act on a message (DESIGN §4).

A ``Plan`` is a source's configuration compiled for the worker: its transformations as one
function, and each instance's enabled filters with their FQL conditions compiled to closures.
Plans are cached per process and rebuilt when the source's ``config_version`` changes (every
filter, transformation or instance change bumps it), so a worker never parses FQL per event and
never acts on a stale configuration for longer than one batch.

The plan also holds each instance's privacy ``Guard`` (``privacy/guard.py``), which acts on
classified fields after the transformations and before the filters.

``routing`` transforms each message and asks ``admit`` which instances take it (privacy blocks,
filters that sample or drop); ``deliveries`` asks ``receive`` for what an instance receives
(privacy's dropped, hashed and encrypted fields, filters that drop or allow properties). The split
keeps a sampling decision made once, at routing.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from connections.models import DestinationFilter, Source, Transformation
from delivery import filters, fql, transformations
from privacy.guard import Guard, guards_for_source

ADMISSION = {"SAMPLE", "DROP"}
MAX_CACHED_PLANS = 2000


@dataclass
class Plan:
    version: int
    transform: transformations.Transform = transformations.identity
    admission: dict[str, list[filters.FilterSpec]] = field(default_factory=dict)
    shaping: dict[str, list[filters.FilterSpec]] = field(default_factory=dict)
    guards: dict[str, Guard] = field(default_factory=dict)

    def admit(self, instance_id: str, message: dict) -> str | None:
        """None if the instance takes ``message`` (already transformed), else why not."""
        screened, reason = self._screen(instance_id, message)
        if screened is None:
            return reason
        specs = self.admission.get(instance_id)
        if not specs:
            return None
        kept, reason = filters.apply(specs, screened)
        return None if kept is not None else reason

    def receive(self, instance_id: str, message: dict) -> tuple[dict | None, str]:
        """The message (already transformed) as the instance receives it, or ``(None, reason)``
        if privacy now blocks it (a field classified since routing admitted it)."""
        screened, reason = self._screen(instance_id, message)
        if screened is None:
            return None, reason
        specs = self.shaping.get(instance_id)
        shaped = filters.apply(specs, screened)[0] if specs else screened
        guard = self.guards.get(instance_id)
        return (guard.seal(shaped) if guard else shaped), ""

    def _screen(self, instance_id: str, message: dict) -> tuple[dict | None, str]:
        guard = self.guards.get(instance_id)
        return guard.screen(message) if guard else (message, "")


def build(source_id: str, version: int) -> Plan:
    rows = Transformation.objects.filter(source_id=source_id, enabled=True)
    plan = Plan(version, transformations.compile(rows), guards=guards_for_source(source_id))
    admission, shaping = defaultdict(list), defaultdict(list)
    for item in DestinationFilter.objects.filter(instance__source_id=source_id, enabled=True):
        condition = fql.compile(item.condition_ast)
        admit = [a for a in item.actions if a.get("type") in ADMISSION]
        shape = [a for a in item.actions if a.get("type") not in ADMISSION]
        if admit:
            admission[item.instance_id].append(filters.FilterSpec(item.pk, condition, admit))
        if shape:
            shaping[item.instance_id].append(filters.FilterSpec(item.pk, condition, shape))
    plan.admission, plan.shaping = dict(admission), dict(shaping)
    return plan


_plans: dict[str, Plan] = {}


def plan_for(source_id: str) -> Plan:
    """The source's current plan: one indexed query when the cached plan is still current."""
    version = Source.objects.filter(pk=source_id).values_list("config_version", flat=True).first()
    cached = _plans.get(source_id)
    if cached is not None and cached.version == version:
        return cached
    if len(_plans) >= MAX_CACHED_PLANS:
        _plans.clear()
    plan = _plans[source_id] = build(source_id, version or 0)
    return plan
