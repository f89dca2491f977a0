"""Test data made through our real operations, so tests see what users see."""

import itertools
from datetime import timedelta

from django.utils import timezone

from segapp import tokens, workspaces
from segapp.models import Membership, Plan, Role, User

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_user(email: str | None = None) -> User:
    return User.objects.create_user(email or f"user{next(_seq)}@example.com", PASSWORD)


def make_workspace(owner: User | None = None, name: str | None = None, plan: str = Plan.FREE):
    return workspaces.create_workspace(
        owner or make_user(), name or f"Workspace {next(_seq)}", plan
    )


def make_member(workspace, role: str = Role.MEMBER) -> User:
    user = make_user()
    owner = Membership.objects.filter(workspace=workspace, role=Role.OWNER).first().user
    workspaces.add_member(workspace, user.email, role, owner)
    return user


def make_token(workspace, role: str = Role.OWNER):
    return tokens.create_token(workspace, "test token", role, actor=None)


def make_source(workspace, slug: str = "javascript", name: str = ""):
    """A source from the catalog entry ``slug`` (the catalog must be loaded)."""
    from catalog.models import SourceMetadata
    from connections.sources import create_source

    metadata = SourceMetadata.objects.get(slug=slug)
    return create_source(
        workspace, metadata, actor=None, name=name or f"{metadata.name} {next(_seq)}"
    )


SAMPLE_VALUES = {
    "string": "sample",
    "text": "sample text",
    "boolean": True,
    "number": 1,
    "array": ["http://127.0.0.1:9/hook"],
    "map": {"X-Sample": "1"},
}


def _sample(option: dict):
    if option["type"] == "select":
        return option["choices"][0]
    if option.get("format") == "url" and option["type"] == "string":
        return "http://127.0.0.1:9/hook"
    return SAMPLE_VALUES[option["type"]]


def required_settings(metadata) -> dict:
    """Valid values for every required setting of a catalog entry."""
    return {o["name"]: _sample(o) for o in metadata.options if o.get("required")}


def make_instance(
    source, slug: str = "webhooks", name: str = "", settings: dict | None = None, **kwargs
):
    """An instance created through the real operation (and its rules)."""
    from catalog.models import DestinationMetadata
    from connections.instances import create_instance

    metadata = DestinationMetadata.objects.get(slug=slug)
    values = {**required_settings(metadata), **(settings or {})}
    return create_instance(source, metadata, None, name=name, settings=values, **kwargs)


def make_one_of_everything(owner: User, name: str, unreachable_url: str) -> dict:
    """A workspace holding one of every object a console page or API operation names by id, each
    made by its real operation: the ids that access tests walk. Every object can be changed or
    deleted (a second write key, a member, a spare token, an older settings version), so an access
    check that lets a request through shows up as a change. The dead-lettered delivery comes from
    an event posted to the tracking API that ``unreachable_url`` refused; the caller makes
    ``DELIVERY_RETRY_WINDOW`` 0 so the first failure is final."""
    import base64

    from django.test import Client

    from catalog.models import DestinationMetadata
    from connections import filters, instances, sources, transformations
    from delivery import deliveries, field_discovery, replays, routing
    from delivery.models import DeliveryJob, IngestBatch, JobState
    from privacy import custom_matchers, regulations
    from privacy.models import Field
    from warehouses import operations as warehouse_operations
    from warehouses import syncs

    workspace = make_workspace(owner, name)
    source = make_source(workspace, "javascript", name=f"{name} site")
    write_key = sources.add_write_key(source, None)
    instance = instances.set_enabled(
        make_instance(source, "webhooks", name=f"{name} hook",
                      settings={"webhookUrls": [unreachable_url], "sharedSecret": "s3cr3t"}),
        True, None,
    )  # fmt: skip
    instances.update_settings(instance, {"sharedSecret": "s3cr3t-2"}, None, merge=True)
    item = filters.create_filter(
        instance, None, title="No tests", condition="event = 'Test'", actions=[{"type": "DROP"}]
    )
    transformation = transformations.create_transformation(
        source, None, {"name": "Drop email", "target": "track", "drops": ["email"]}
    )
    member = make_member(workspace, Role.MEMBER)
    token, _ = make_token(workspace, Role.MEMBER)
    basic = base64.b64encode(f"{write_key.key}:".encode()).decode()
    event = {"type": "track", "event": "Paid", "userId": "u1", "messageId": f"{name}-1",
             "properties": {"plan": "pro"}}  # fmt: skip
    response = Client().post("/v1/track", event, "application/json",
                             headers={"Authorization": f"Basic {basic}"})  # fmt: skip
    assert response.status_code == 200, response.content
    batch = IngestBatch.objects.filter(source_id=source.pk).get()
    IngestBatch.claim(batch.pk, routing.ROUTING_LEASE)
    (job_id,) = routing.route_batch(batch.pk)
    deliveries.deliver_job(job_id)
    job = DeliveryJob.objects.get(pk=job_id)
    assert job.state == JobState.DEAD_LETTERED, (job.state, job.last_error)

    # A warehouse on the same closed port: its connected source's sync failed, with the reason.
    warehouse = warehouse_operations.create_warehouse(
        workspace, DestinationMetadata.objects.get(slug="postgres"), None,
        settings={"hostname": "127.0.0.1", "port": 9, "database": "analytics",
                  "username": "loader", "password": "s3cr3t-db", "sslMode": "disable"},
    )  # fmt: skip
    warehouse_operations.connect_source(warehouse, source, None)
    ((sync, _),) = warehouse_operations.sync_now(warehouse, None)
    syncs.run(sync.pk)

    # A replay of the last day, still pending (Replay is part of the Business plan).
    workspaces.update_workspace(workspace, None, plan=Plan.BUSINESS)
    now = timezone.now()
    replay = replays.start_replay(instance, None, start=now - timedelta(days=1), end=now)

    # The Privacy Inbox's field of that event, and a custom matcher.
    field_discovery.run()
    field = Field.objects.get(workspace=workspace, path="properties.plan")
    matcher = custom_matchers.create_matcher(
        workspace, None, name="Member number", classification="yellow", match_on="key",
        pattern="member number, member no",
    )  # fmt: skip

    # A deletion of u1's data that no sweep has started (Privacy → End-user privacy).
    regulation = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["u1"]
    )
    return {
        "workspace": workspace,
        "source": source,
        "write_key": write_key,
        "instance": instance,
        "filter": item,
        "transformation": transformation,
        "settings_version": instance.settings_versions.order_by("number").first(),
        "membership": Membership.objects.get(workspace=workspace, user=member),
        "token": token,
        "dead_letter": job,
        "warehouse": warehouse,
        "sync": sync,
        "replay": replay,
        "regulation": regulation,
        "field": field,
        "matcher": matcher,
    }
