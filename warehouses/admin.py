"""Support screens for warehouses and their syncs. Edits go through the same operations (and
rules) as the console; the password appears masked."""

from django.contrib import admin

from segapp.admin import ReadOnlyAdmin, RefusalAwareAdmin
from warehouses import operations
from warehouses.models import Collection, ConnectedSource, Sync, Warehouse


class ConnectedSourceInline(admin.TabularInline):
    model = ConnectedSource
    extra = 0
    fields = ["source", "loaded_through", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Warehouse)
class WarehouseAdmin(RefusalAwareAdmin):
    list_display = ["display_name", "id", "metadata", "workspace", "enabled", "next_sync_at"]
    search_fields = ["name", "id", "workspace__name", "workspace__slug", "metadata__name"]
    list_filter = ["enabled", "metadata__name"]
    list_select_related = ["workspace", "metadata"]
    fields = ["id", "workspace", "metadata", "name", "enabled", "masked_settings",
              "sync_every_minutes", "advanced_schedule_enabled", "advanced_schedule",
              "next_sync_at", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = ["id", "workspace", "metadata", "masked_settings", "sync_every_minutes",
                       "advanced_schedule_enabled", "advanced_schedule", "next_sync_at",
                       "created_at", "updated_at"]  # fmt: skip
    inlines = [ConnectedSourceInline]

    def has_add_permission(self, request):
        return False  # added from Catalog → Warehouses, where the connection is tested first

    @admin.display(description="Settings (password masked)")
    def masked_settings(self, obj):
        return obj.masked_settings()

    def save_model(self, request, obj, form, change):
        current = Warehouse.objects.get(pk=obj.pk)
        self.save_or_refuse(
            request,
            lambda: operations.update_warehouse(
                current, request.user, name=obj.name, enabled=obj.enabled
            ),
        )

    delete_operation = staticmethod(operations.delete_warehouse)


@admin.register(Sync)
class SyncAdmin(ReadOnlyAdmin):
    list_display = ["warehouse", "source", "status", "trigger", "created_at", "rows", "discarded"]
    search_fields = ["id", "warehouse__name", "warehouse__id", "source__name", "source__id",
                     "error"]  # fmt: skip
    list_filter = ["status", "trigger", "created_at"]
    list_select_related = ["warehouse__metadata", "source"]


@admin.register(Collection)
class CollectionAdmin(ReadOnlyAdmin):
    """Read-only: selective sync is changed on the warehouse's page or by the Public API."""

    list_display = ["name", "source", "warehouse", "enabled"]
    search_fields = ["name", "source__name", "warehouse__name", "warehouse__id"]
    list_filter = ["enabled"]
    list_select_related = ["source", "warehouse__metadata"]
