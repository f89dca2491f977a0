"""Operations on destination instances: create, rename, enable, change mode, edit, copy or restore
settings, delete. Each gathers the facts, asks ``connections.rules``, writes, and audits."""

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from catalog.models import ConnectionMode, DestinationMetadata
from connections import endpoints, rules
from connections.models import DestinationInstance, SettingsVersion, Source
from connections.settings_schema import clean_settings
from segapp import audit, crypto
from segapp.refusal import Refusal


def taken_names(source: Source, exclude: DestinationInstance | None = None) -> set[str]:
    names = DestinationInstance.objects.filter(source=source)
    if exclude is not None:
        names = names.exclude(pk=exclude.pk)
    return set(names.values_list("name", flat=True))


def siblings(
    source: Source, metadata: DestinationMetadata, exclude: DestinationInstance | None = None
):
    found = DestinationInstance.objects.filter(source=source, metadata=metadata)
    if exclude is not None:
        found = found.exclude(pk=exclude.pk)
    counts = found.aggregate(
        cloud=Count("pk", filter=Q(mode=ConnectionMode.CLOUD)),
        device=Count("pk", filter=Q(mode=ConnectionMode.DEVICE)),
    )
    return rules.Siblings(**counts)


def refuse_new_instance(source: Source, metadata: DestinationMetadata) -> Refusal | None:
    return rules.refuse_new_instance(
        source.kind,
        source.sends_events,
        metadata,
        siblings(source, metadata),
    )


def addability(workspace, metadata: DestinationMetadata, sources) -> dict[str, Refusal | None]:
    """For the Confirm Source step: each source's refusal (or None), from two queries in all."""
    rows = (
        DestinationInstance.objects.filter(workspace=workspace, metadata=metadata)
        .values("source_id")
        .annotate(
            cloud=Count("pk", filter=Q(mode=ConnectionMode.CLOUD)),
            device=Count("pk", filter=Q(mode=ConnectionMode.DEVICE)),
        )
    )
    counts = {row["source_id"]: rules.Siblings(row["cloud"], row["device"]) for row in rows}
    return {
        source.pk: rules.refuse_new_instance(
            source.kind,
            source.sends_events,
            metadata,
            counts.get(source.pk, rules.Siblings()),
        )
        for source in sources
    }


def snapshot(instance: DestinationInstance) -> dict:
    """The audit trail's view of an instance: secrets appear as masks, never in clear."""
    return {
        "name": instance.name,
        "enabled": instance.enabled,
        "mode": instance.mode,
        "settings": instance.masked_settings(),
    }


def _record_version(instance: DestinationInstance, entry, note: str = "") -> SettingsVersion:
    """Keeps the settings ``entry`` audited as the instance's next version. Every operation that
    changes settings ends here; each holds the source's lock, so numbers cannot collide."""
    last = instance.settings_versions.aggregate(last=Max("number"))["last"] or 0
    return SettingsVersion.objects.create(
        workspace_id=instance.workspace_id,
        instance=instance,
        number=last + 1,
        settings=instance.settings,
        encrypted_secrets=instance.encrypted_secrets,
        action=entry.action,
        note=note[:200],
        actor_label=entry.actor_label,
        audit_entry=entry,
        created_at=entry.created_at,
    )


def _touch(instance: DestinationInstance, fields: list[str]) -> None:
    instance.updated_at = timezone.now()
    instance.save(update_fields=[*fields, "updated_at"])
    instance.source.bump_config_version()


@transaction.atomic
def create_instance(
    source: Source,
    metadata: DestinationMetadata,
    actor,
    *,
    name: str = "",
    settings: dict | None = None,
    enabled: bool = False,
    copy_secrets_from: DestinationInstance | None = None,
) -> DestinationInstance:
    """Connects ``metadata`` to ``source``. ``copy_secrets_from`` supplies the secrets the caller did
    not type (Copy Settings From Other Destination), so they never travel through the browser."""
    source = (
        Source.objects.select_for_update().select_related("metadata", "workspace").get(pk=source.pk)
    )
    if refusal := refuse_new_instance(source, metadata):
        raise refusal
    taken = taken_names(source)
    name = name.strip() or rules.suggest_name(metadata, taken)
    if refusal := rules.refuse_name(name, taken):
        raise refusal
    if enabled and (refusal := rules.refuse_sending(metadata, rules.initial_mode(metadata))):
        raise refusal
    stored = {}
    if copy_secrets_from is not None:
        _check_copy(copy_secrets_from, source.workspace, metadata)
        stored = copy_secrets_from.secrets
    plain, secrets = clean_settings(metadata.options, settings or {}, stored)
    instance = DestinationInstance.objects.create(
        workspace=source.workspace,
        source=source,
        metadata=metadata,
        name=name,
        enabled=bool(enabled),
        mode=rules.initial_mode(metadata),
        settings=plain,
        encrypted_secrets=crypto.encrypt_json(secrets),
    )
    source.bump_config_version()
    entry = audit.record(
        source.workspace, actor, "instance.created", instance, after=snapshot(instance)
    )
    _record_version(instance, entry, _copied_note(copy_secrets_from))
    return instance


def _locked(instance: DestinationInstance) -> DestinationInstance:
    """The instance, re-read under its source's lock: rule checks and writes see one state."""
    Source.objects.select_for_update().filter(pk=instance.source_id).first()
    return DestinationInstance.objects.select_related(
        "source__metadata", "source__workspace", "metadata"
    ).get(pk=instance.pk)


@transaction.atomic
def rename_instance(instance: DestinationInstance, name: str, actor) -> DestinationInstance:
    instance = _locked(instance)
    if refusal := rules.refuse_name(name, taken_names(instance.source, exclude=instance)):
        raise refusal
    before = snapshot(instance)
    instance.name = name.strip()
    _touch(instance, ["name"])
    audit.record(
        instance.workspace,
        actor,
        "instance.renamed",
        instance,
        before=before,
        after=snapshot(instance),
    )
    return instance


@transaction.atomic
def set_enabled(instance: DestinationInstance, enabled: bool, actor) -> DestinationInstance:
    instance = _locked(instance)
    if enabled and (refusal := rules.refuse_sending(instance.metadata, instance.mode)):
        raise refusal
    if instance.enabled != bool(enabled):
        before = snapshot(instance)
        instance.enabled = bool(enabled)
        _touch(instance, ["enabled"])
        action = "instance.enabled" if enabled else "instance.disabled"
        audit.record(
            instance.workspace, actor, action, instance, before=before, after=snapshot(instance)
        )
    return instance


def bundle_warning(instance: DestinationInstance) -> str | None:
    """The console's warning about a device-mode bundle that cannot tell instances apart."""
    others = siblings(instance.source, instance.metadata, exclude=instance)
    return rules.warn_bundled_instances(
        instance.source.kind, instance.metadata, instance.mode, others
    )


def refuse_mode(instance: DestinationInstance, mode: str) -> Refusal | None:
    if mode == instance.mode:
        return None
    others = siblings(instance.source, instance.metadata, exclude=instance)
    refusal = rules.refuse_mode(instance.source.kind, instance.metadata, mode, others)
    if refusal is None and instance.enabled:
        refusal = rules.refuse_sending(instance.metadata, mode, field="mode")
    return refusal


@transaction.atomic
def set_mode(instance: DestinationInstance, mode: str, actor) -> DestinationInstance:
    instance = _locked(instance)
    if refusal := refuse_mode(instance, mode):
        raise refusal
    if mode != instance.mode:
        before = snapshot(instance)
        instance.mode = mode
        _touch(instance, ["mode"])
        audit.record(
            instance.workspace,
            actor,
            "instance.mode_changed",
            instance,
            before=before,
            after=snapshot(instance),
        )
    return instance


@transaction.atomic
def update_settings(
    instance: DestinationInstance,
    submitted: dict,
    actor,
    *,
    merge: bool = False,
    copy_secrets_from: DestinationInstance | None = None,
    restoring: SettingsVersion | None = None,
) -> DestinationInstance:
    """Saves settings. ``merge`` keeps settings the caller did not send (the Public API's update).
    Secrets not submitted are kept, or taken from ``copy_secrets_from`` or the version being
    restored (``restore_settings``)."""
    instance = _locked(instance)
    stored = old_secrets = instance.secrets
    action, note = "instance.settings_changed", ""
    if copy_secrets_from is not None:
        _check_copy(copy_secrets_from, instance.workspace, instance.metadata)
        stored = copy_secrets_from.secrets
        action, note = "instance.settings_copied", _copied_note(copy_secrets_from)
    if restoring is not None:
        stored = restoring.secrets
        action, note = "instance.settings_restored", f"Restored version {restoring.number}"
    values = {**instance.settings, **submitted} if merge else submitted
    options = instance.metadata.options
    # Secrets follow the host they were entered for: whoever points the requests somewhere new
    # (an endpoint override, a webhook URL) enters the secrets again for it, or sends none.
    # Copied and restored settings bring the secrets that went with their own hosts.
    dropped = stored is old_secrets and endpoints.routes_elsewhere(
        options, instance.settings, values
    )
    if dropped:
        stored = {}
    plain, secrets = clean_settings(options, values, stored, secrets_dropped=dropped)
    before = snapshot(instance)
    instance.settings = plain
    instance.encrypted_secrets = crypto.encrypt_json(secrets)
    _touch(instance, ["settings", "encrypted_secrets"])
    after = snapshot(instance)
    if after != before or secrets != old_secrets:
        entry = audit.record(
            instance.workspace, actor, action, instance, before=before, after=after
        )
        _record_version(instance, entry, note)
    return instance


def _copied_note(other: DestinationInstance | None) -> str:
    return f"Copied from {other.name} ({other.source.name})" if other is not None else ""


def _check_copy(other: DestinationInstance, workspace, metadata: DestinationMetadata) -> None:
    if other.workspace_id != workspace.pk or other.metadata_id != metadata.pk:
        raise Refusal(
            f"Settings can be copied only from another {metadata.name} instance in this workspace.",
            rule="copy-same-destination",
            field="copy_from",
        )


@transaction.atomic
def copy_settings(
    target: DestinationInstance, other: DestinationInstance, actor
) -> DestinationInstance:
    """Copy Settings From Other Destination: every setting, secrets included, server to server."""
    _check_copy(other, target.workspace, target.metadata)
    return update_settings(target, other.settings, actor, copy_secrets_from=other)


def catalog_entries_updated(sender, ids: list[str], **kwargs) -> None:
    """A catalog update may rename a destination or mark one of its options secret: both change
    the device-mode settings document of every source using the entry, and a newly secret
    option's stored values (current and in the settings history) are encrypted from now on, so
    no page, API answer or snapshot shows them. Runs at catalog load, not on a request."""
    using = DestinationInstance.objects.filter(metadata_id__in=ids)
    for instance in using.select_related("metadata"):
        secret_names = {o["name"] for o in instance.metadata.options if o.get("secret")}
        for stored in [instance, *instance.settings_versions.all()]:
            if stored.seal(secret_names):
                stored.save(update_fields=["settings", "encrypted_secrets"])
    Source.objects.filter(pk__in=using.values("source_id")).update(
        config_version=F("config_version") + 1
    )


@transaction.atomic
def restore_settings(
    instance: DestinationInstance, version: SettingsVersion, actor
) -> DestinationInstance:
    """Makes an earlier version's settings, secrets included, the current ones. They are checked
    against the catalog's options again, as any update is; restoring creates a new version."""
    if version.instance_id != instance.pk:
        raise Refusal(
            "Only a version of this destination's own settings can be restored.",
            rule="restore-same-instance",
            field="version",
        )
    return update_settings(instance, version.settings, actor, restoring=version)


@transaction.atomic
def delete_instance(instance: DestinationInstance, actor) -> None:
    instance = _locked(instance)
    audit.record(instance.workspace, actor, "instance.deleted", instance, before=snapshot(instance))
    instance.source.bump_config_version()
    instance.delete()
