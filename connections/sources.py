"""Operations on sources and write keys. Views, the Public API, admin and commands call these."""

from django.db import transaction
from django.utils.text import slugify

from catalog.models import SourceMetadata
from connections.models import Source, WriteKey
from segapp import audit
from segapp.models import Workspace
from segapp.refusal import Refusal


def source_snapshot(source: Source) -> dict:
    return {
        "name": source.name,
        "slug": source.slug,
        "enabled": source.enabled,
        "settings": source.settings,
    }


def _check_settings(metadata: SourceMetadata, settings: dict) -> dict:
    """A source's settings are stored as given, in clear (unlike an instance's, there is no
    encrypted column for sources yet), so a secret one (a cloud source's token) is refused."""
    for name in settings:
        if name in metadata.secret_option_names:
            raise Refusal(
                f"{name}: Segapp cannot store a source's secret settings yet.",
                rule="source-secret-setting",
                field=f"settings.{name}",
            )
    return settings


def _clean_slug(workspace: Workspace, slug: str, exclude_id: str | None = None) -> str:
    slug = slugify(slug)
    if not slug:
        raise Refusal(
            "A source needs a slug of letters, digits and dashes.",
            rule="source-slug-required",
            field="slug",
        )
    taken = Source.objects.filter(workspace=workspace, slug=slug).exclude(pk=exclude_id)
    if taken.exists():
        raise Refusal(
            f"The slug “{slug}” is already used by another source in this workspace.",
            rule="source-slug-unique",
            field="slug",
            status=409,
        )
    return slug


@transaction.atomic
def create_source(
    workspace: Workspace,
    metadata: SourceMetadata,
    actor,
    *,
    name: str = "",
    slug: str = "",
    enabled: bool = True,
    settings: dict | None = None,
) -> Source:
    name = name.strip() or metadata.name
    source = Source(
        workspace=workspace,
        metadata=metadata,
        name=name,
        slug=_clean_slug(workspace, slug or name),
        enabled=enabled,
        settings=_check_settings(metadata, settings or {}),
    )
    source.save()
    WriteKey.objects.create(source=source)
    audit.record(
        workspace,
        actor,
        "source.created",
        source,
        after={**source_snapshot(source), "type": metadata.name},
    )
    return source


@transaction.atomic
def update_source(
    source: Source,
    actor,
    *,
    name: str | None = None,
    slug: str | None = None,
    enabled=None,
    settings: dict | None = None,
) -> Source:
    before = source_snapshot(source)
    if name is not None:
        if not name.strip():
            raise Refusal("A source needs a name.", rule="source-name-required", field="name")
        source.name = name.strip()
    if slug is not None:
        source.slug = _clean_slug(source.workspace, slug, exclude_id=source.pk)
    if enabled is not None:
        source.enabled = bool(enabled)
    if settings is not None:
        source.settings = _check_settings(source.metadata, settings)
    after = source_snapshot(source)
    if after != before:
        source.save(update_fields=["name", "slug", "enabled", "settings"])
        # Incremented in SQL: two concurrent changes must not both write the same next version.
        source.bump_config_version()
        audit.record(source.workspace, actor, "source.updated", source, before=before, after=after)
    return source


@transaction.atomic
def delete_source(source: Source, actor) -> None:
    audit.record(source.workspace, actor, "source.deleted", source, before=source_snapshot(source))
    source.delete()


@transaction.atomic
def add_write_key(source: Source, actor) -> WriteKey:
    key = WriteKey.objects.create(source=source)
    audit.record(source.workspace, actor, "write_key.added", source, after={"write_key": str(key)})
    return key


@transaction.atomic
def delete_write_key(key: WriteKey, actor) -> None:
    """Rotation is add-then-delete; the last key stays, or the source could receive nothing."""
    source = Source.objects.select_for_update().get(pk=key.source_id)
    if source.write_keys.count() <= 1:
        raise Refusal(
            "A source keeps at least one write key: add a new key before deleting this one.",
            rule="last-write-key",
            status=409,
        )
    audit.record(
        source.workspace, actor, "write_key.deleted", source, before={"write_key": str(key)}
    )
    key.delete()
