"""Support screens for sources and destination instances. Edits go through the same operations
(and rules) as the console; secret settings appear masked."""

from django.contrib import admin

from connections import filters, instances, sources, transformations
from connections.models import (
    DestinationFilter,
    DestinationInstance,
    SettingsVersion,
    Source,
    Transformation,
    WriteKey,
)
from segapp.admin import ReadOnlyAdmin, RefusalAwareAdmin


class WriteKeyInline(admin.TabularInline):
    model = WriteKey
    extra = 0
    fields = ["key", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Source)
class SourceAdmin(RefusalAwareAdmin):
    list_display = ["name", "slug", "id", "workspace", "metadata", "enabled", "created_at"]
    search_fields = ["name", "slug", "id", "workspace__name", "workspace__slug", "write_keys__key"]
    list_filter = ["enabled", "metadata__kind"]
    list_select_related = ["workspace", "metadata"]
    fields = [
        "id",
        "workspace",
        "metadata",
        "name",
        "slug",
        "enabled",
        "config_version",
        "created_at",
    ]
    readonly_fields = ["id", "workspace", "metadata", "config_version", "created_at"]
    inlines = [WriteKeyInline]

    def has_add_permission(self, request):
        return False  # sources are created from the source catalog (console or Public API)

    def save_model(self, request, obj, form, change):
        current = Source.objects.select_related("workspace").get(pk=obj.pk)
        self.save_or_refuse(
            request,
            lambda: sources.update_source(
                current, request.user, name=obj.name, slug=obj.slug, enabled=obj.enabled
            ),
        )

    delete_operation = staticmethod(sources.delete_source)


@admin.register(DestinationInstance)
class DestinationInstanceAdmin(RefusalAwareAdmin):
    list_display = [
        "name",
        "id",
        "metadata",
        "source",
        "workspace",
        "mode",
        "enabled",
        "updated_at",
    ]
    search_fields = [
        "name",
        "id",
        "metadata__name",
        "source__name",
        "workspace__name",
        "workspace__slug",
    ]
    list_filter = ["enabled", "mode", "metadata__kind"]
    list_select_related = ["metadata", "source", "workspace"]
    fields = [
        "id",
        "workspace",
        "source",
        "metadata",
        "name",
        "enabled",
        "mode",
        "masked_settings",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "id",
        "workspace",
        "source",
        "metadata",
        "masked_settings",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False  # the add flows check the multi-instance rules with the user in front of them

    @admin.display(description="Settings (secrets masked)")
    def masked_settings(self, obj):
        return obj.masked_settings()

    def save_model(self, request, obj, form, change):
        current = DestinationInstance.objects.get(pk=obj.pk)

        def apply():
            instance = (
                instances.rename_instance(current, obj.name, request.user)
                if obj.name != current.name
                else current
            )
            instance = instances.set_mode(instance, obj.mode, request.user)
            instances.set_enabled(instance, obj.enabled, request.user)

        self.save_or_refuse(request, apply)

    delete_operation = staticmethod(instances.delete_instance)


@admin.register(DestinationFilter)
class DestinationFilterAdmin(RefusalAwareAdmin):
    list_display = ["title", "id", "instance", "enabled", "position", "updated_at"]
    search_fields = ["title", "id", "condition", "instance__name", "instance__id"]
    list_filter = ["enabled", "instance__metadata__name"]
    list_select_related = ["instance"]
    fields = ["id", "instance", "title", "description", "condition", "actions", "enabled",
              "position", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = ["id", "instance", "position", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # created on the instance page or by the Public API

    def save_model(self, request, obj, form, change):
        current = DestinationFilter.objects.select_related("instance").get(pk=obj.pk)
        changes = {name: getattr(obj, name) for name in filters.EDITABLE}
        self.save_or_refuse(
            request, lambda: filters.update_filter(current, request.user, **changes)
        )

    delete_operation = staticmethod(filters.delete_filter)


@admin.register(Transformation)
class TransformationAdmin(RefusalAwareAdmin):
    list_display = ["name", "id", "source", "target", "event_name", "enabled", "updated_at"]
    search_fields = ["name", "id", "event_name", "new_event_name", "source__name", "source__id"]
    list_filter = ["enabled", "target"]
    list_select_related = ["source"]
    fields = ["id", "source", "name", "enabled", "target", "event_name", "new_event_name",
              "renames", "drops", "position", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = ["id", "source", "position", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # created on the source's Transformations page

    def save_model(self, request, obj, form, change):
        current = Transformation.objects.get(pk=obj.pk)
        values = {name: getattr(obj, name) for name in transformations.EDITABLE}
        self.save_or_refuse(
            request, lambda: transformations.update_transformation(current, request.user, values)
        )

    delete_operation = staticmethod(transformations.delete_transformation)


@admin.register(SettingsVersion)
class SettingsVersionAdmin(ReadOnlyAdmin):
    """Read-only: a version is restored from the instance's settings history, as an operation."""

    list_display = [
        "instance",
        "number",
        "action",
        "note",
        "actor_label",
        "workspace",
        "created_at",
    ]
    search_fields = ["instance__name", "instance__id", "actor_label", "note", "workspace__name",
                     "workspace__slug"]  # fmt: skip
    list_filter = ["action", "instance__metadata__name", "created_at"]
    list_select_related = ["instance", "workspace"]
    fields = ["instance", "workspace", "number", "action", "note", "actor_label", "audit_entry",
              "masked_settings", "created_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Settings (secrets masked)")
    def masked_settings(self, obj):
        return obj.masked_settings()
