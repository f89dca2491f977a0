"""Catalog entries come from catalog/data/ (load_catalog); support staff look them up here, and a
change is made in the data files so every installation gets it."""

from django.contrib import admin

from catalog.models import DestinationMetadata, SourceMetadata
from segapp.admin import ReadOnlyAdmin


@admin.register(DestinationMetadata)
class DestinationMetadataAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "id", "kind", "status", "primary_category"]
    search_fields = ["name", "slug", "id", "search_text"]
    list_filter = ["kind", "status"]
    exclude = ["search_text", "category_index"]


@admin.register(SourceMetadata)
class SourceMetadataAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "id", "kind", "is_cloud_event_source", "primary_category"]
    search_fields = ["name", "slug", "id", "search_text"]
    list_filter = ["kind", "is_cloud_event_source"]
    exclude = ["search_text", "category_index"]
