from django.urls import path

from connections.views import filters, instances, settings_history, sources, transformations

app_name = "connections"

W = "w/<slug:workspace_slug>/"
SOURCE = W + "sources/<str:source_id>/"
INSTANCE = W + "destinations/<str:instance_id>/"
FILTER = INSTANCE + "filters/<str:filter_id>/"
TRANSFORMATION = SOURCE + "transformations/<str:transformation_id>/"

urlpatterns = [
    path(W + "sources/", sources.source_list, name="source-list"),
    path(W + "sources/new/<slug:catalog_slug>/", sources.source_create, name="source-create"),
    path(SOURCE, sources.source_detail, name="source-detail"),
    path(SOURCE + "toggle/", sources.source_toggle, name="source-toggle"),
    path(SOURCE + "delete/", sources.source_delete, name="source-delete"),
    path(SOURCE + "write-keys/", sources.write_key_add, name="write-key-add"),
    path(
        SOURCE + "write-keys/<int:key_id>/delete/",
        sources.write_key_delete,
        name="write-key-delete",
    ),
    path(
        SOURCE + "add-destination/", instances.source_add_destination, name="source-add-destination"
    ),
    path(
        SOURCE + "add-destination/<slug:slug>/",
        instances.source_add_destination,
        name="source-add-destination-entry",
    ),
    path(W + "destinations/", instances.instance_list, name="instance-list"),
    path(
        W + "destinations/new/<slug:slug>/",
        instances.confirm_source,
        name="instance-confirm-source",
    ),
    path(
        W + "destinations/new/<slug:slug>/<str:source_id>/",
        instances.instance_create,
        name="instance-create",
    ),
    path(INSTANCE, instances.instance_detail, name="instance-detail"),
    path(INSTANCE + "toggle/", instances.instance_toggle, name="instance-toggle"),
    path(INSTANCE + "rename/", instances.instance_rename, name="instance-rename"),
    path(INSTANCE + "mode/", instances.instance_mode, name="instance-mode"),
    path(INSTANCE + "settings/", instances.instance_settings, name="instance-settings"),
    path(INSTANCE + "delete/", instances.instance_delete, name="instance-delete"),
    path(
        INSTANCE + "settings/history/",
        settings_history.history,
        name="instance-settings-history",
    ),
    path(
        INSTANCE + "settings/history/<int:version_id>/restore/",
        settings_history.restore,
        name="instance-settings-restore",
    ),
    path(INSTANCE + "filters/new/", filters.filter_edit, name="filter-new"),
    path(FILTER, filters.filter_edit, name="filter-edit"),
    path(FILTER + "toggle/", filters.filter_toggle, name="filter-toggle"),
    path(FILTER + "move/", filters.filter_move, name="filter-move"),
    path(FILTER + "delete/", filters.filter_delete, name="filter-delete"),
    path(SOURCE + "transformations/", transformations.transformation_list, name="transformations"),
    path(TRANSFORMATION, transformations.transformation_edit, name="transformation-edit"),
    path(
        TRANSFORMATION + "delete/",
        transformations.transformation_delete,
        name="transformation-delete",
    ),
]
