"""The Public API under ``/api/``: Segment's paths, without trailing slashes, as its SDK calls them."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from catalog.api.catalog import (
    DestinationCatalogViewSet,
    SourceCatalogViewSet,
    WarehouseCatalogViewSet,
)
from segapp.api.workspace import get_workspace

router = SimpleRouter(trailing_slash=False)
router.register("catalog/destinations", DestinationCatalogViewSet, basename="catalog-destination")
router.register("catalog/sources", SourceCatalogViewSet, basename="catalog-source")
router.register("catalog/warehouses", WarehouseCatalogViewSet, basename="catalog-warehouse")

app_name = "api"
urlpatterns = [path("", get_workspace, name="workspace"), *router.urls]
