"""The Public API under ``/api/``: Segment's paths, without trailing slashes, as its SDK calls them;
the legacy Config API's Create Destination; the OpenAPI schema and its browsable docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

import segapp.api.schema  # noqa: F401  (registers the Bearer scheme with drf-spectacular)
from catalog.api.catalog import (
    DestinationCatalogViewSet,
    SourceCatalogViewSet,
    WarehouseCatalogViewSet,
)
from connections.api.config_api import ConfigApiDestinationViewSet
from connections.api.destinations import DestinationViewSet
from connections.api.filters import DestinationFilterViewSet
from connections.api.sources import SourceViewSet
from delivery.api import delivery_overview
from delivery.api.events_volume import EventsVolumeViewSet
from delivery.api.metrics import DeliveryMetricsViewSet
from delivery.api.previews import preview_destination_filter
from delivery.api.replays import DestinationReplayViewSet
from privacy.api.regulations import RegulationViewSet, SuppressionViewSet
from segapp.api.audit_events import AuditEventViewSet
from segapp.api.workspace import get_workspace
from segapp.csp import csp_allow
from warehouses.api.selective_sync import SelectiveSyncViewSet
from warehouses.api.syncs import WarehouseSyncViewSet
from warehouses.api.warehouses import SourceWarehousesViewSet, WarehouseViewSet

router = SimpleRouter(trailing_slash=False)
router.register("catalog/destinations", DestinationCatalogViewSet, basename="catalog-destination")
router.register("catalog/sources", SourceCatalogViewSet, basename="catalog-source")
router.register("catalog/warehouses", WarehouseCatalogViewSet, basename="catalog-warehouse")
router.register("sources", SourceViewSet, basename="source")
router.register("destinations", DestinationViewSet, basename="destination")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("warehouses", WarehouseViewSet, basename="warehouse")

app_name = "api"
urlpatterns = [
    path("", get_workspace, name="workspace"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # The split view serves its start-up script as a file (?script), not inline; Swagger UI's
        # page keeps a small <style> block and its CSS uses data: icons.
        csp_allow(style_src="'unsafe-inline'", img_src="data:")(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    path(
        "workspaces/<slug:workspaceSlug>/sources/<slug:sourceSlug>/destinations",
        ConfigApiDestinationViewSet.as_view({"post": "create"}),
        name="config-api-destination-create",
    ),
    path(
        "destinations/<str:destinationId>/delivery-metrics",
        DeliveryMetricsViewSet.as_view({"get": "summary"}),
        name="destination-delivery-metrics",
    ),
    # The preview before the replay id pattern, which would take "preview" for an id.
    path(
        "destinations/<str:destinationId>/replays/preview",
        DestinationReplayViewSet.as_view({"post": "preview"}),
        name="destination-replay-preview",
    ),
    path(
        "destinations/<str:destinationId>/replays",
        DestinationReplayViewSet.as_view({"get": "list", "post": "create"}),
        name="destination-replay-list",
    ),
    path(
        "destinations/<str:destinationId>/replays/<str:replayId>",
        DestinationReplayViewSet.as_view({"get": "retrieve"}),
        name="destination-replay-detail",
    ),
    path(
        "destinations/<str:destinationId>/replays/<str:replayId>/cancel",
        DestinationReplayViewSet.as_view({"post": "cancel"}),
        name="destination-replay-cancel",
    ),
    path(
        "destination/filters/preview",
        preview_destination_filter,
        name="destination-filter-preview",
    ),
    path(
        "destination/<str:destinationId>/filters",
        DestinationFilterViewSet.as_view({"get": "list", "post": "create"}),
        name="destination-filter-list",
    ),
    path(
        "destination/<str:destinationId>/filters/<str:filterId>",
        DestinationFilterViewSet.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="destination-filter-detail",
    ),
    *delivery_overview.urls(),
    path(
        "events/volume",
        EventsVolumeViewSet.as_view({"get": "events_volume"}),
        name="events-volume",
    ),
    path(
        "sources/<str:sourceId>/connected-warehouses",
        SourceWarehousesViewSet.as_view({"get": "connected_warehouses"}),
        name="source-connected-warehouses",
    ),
    path(
        "warehouses/<str:warehouseId>/syncs",
        WarehouseSyncViewSet.as_view({"get": "list_syncs", "post": "sync_now"}),
        name="warehouse-syncs",
    ),
    path(
        "warehouses/<str:warehouseId>/connected-sources/<str:sourceId>/syncs",
        WarehouseSyncViewSet.as_view({"get": "list_source_syncs"}),
        name="warehouse-source-syncs",
    ),
    path(
        "warehouses/<str:warehouseId>/advanced-sync-schedule",
        WarehouseSyncViewSet.as_view({"get": "get_schedule", "put": "replace_schedule"}),
        name="warehouse-advanced-sync-schedule",
    ),
    path(
        "warehouses/<str:warehouseId>/selective-sync",
        SelectiveSyncViewSet.as_view({"patch": "update_selective_sync"}),
        name="warehouse-selective-sync",
    ),
    path(
        "warehouses/<str:warehouseId>/connected-sources/<str:sourceId>/selective-syncs",
        SelectiveSyncViewSet.as_view({"get": "list_selective_syncs"}),
        name="warehouse-selective-syncs",
    ),
    path(
        "regulations",
        RegulationViewSet.as_view({"get": "list", "post": "create"}),
        name="regulation-list",
    ),
    path(
        "regulations/sources/<str:sourceId>",
        RegulationViewSet.as_view({"get": "list_source", "post": "create_source"}),
        name="source-regulation-list",
    ),
    path(
        "regulations/<str:regulationId>",
        RegulationViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="regulation-detail",
    ),
    path("suppressions", SuppressionViewSet.as_view({"get": "list"}), name="suppression-list"),
    *router.urls,
]
