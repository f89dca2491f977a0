"""Warehouses in a source's Delivery Overview: a sync counts the events it loads like a delivery
(``delivery.counters``), under the warehouse's id, so the overview adds a row for it."""

from django.urls import reverse

from delivery.overview import Target
from warehouses.models import Warehouse


def targets(source) -> list[Target]:
    warehouses = (
        Warehouse.objects.filter(connected_sources__source=source)
        .select_related("metadata")
        .order_by("created_at")
    )
    return [
        Target(
            warehouse.pk,
            warehouse.display_name,
            f"{warehouse.metadata.name} · warehouse",
            reverse("warehouses:detail", args=[source.workspace.slug, warehouse.pk]),
            warehouse.enabled,
        )
        for warehouse in warehouses
    ]
