"""Selective sync (Business): a connected source's tables and columns, each with a switch; a
table or column turned off is not loaded from the next sync on. Changes go through
``warehouses.operations.set_selective_sync``."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from segapp.access import workspace_view
from segapp.refusal import Refusal
from warehouses import operations, rules
from warehouses.models import Collection
from warehouses.naming import schema_name
from warehouses.views.warehouses import connected_source


def _with_columns(collection: Collection) -> Collection:
    """The collection with ``column_rows``: (column, type, loaded?, may be turned off?)."""
    off = set(collection.disabled_columns)
    collection.column_rows = [
        (c, t, c not in off, rules.refuse_column_off(c) is None)
        for c, t in sorted(collection.columns.items())
    ]
    return collection


def _override(request, source_id) -> dict:
    """Segment's sync override from a table's or a column's switch."""
    override = {
        "sourceId": source_id,
        "collection": request.POST.get("collection", ""),
        "enabled": request.POST.get("enabled") == "true",
    }
    if prop := request.POST.get("property"):
        override["property"] = prop
    return override


@workspace_view()
@require_http_methods(["GET", "POST"])
def selective_sync(request, warehouse_id, source_id):
    """The source's tables and columns, each with a switch (Business); a table or column turned
    off is not loaded from the next sync on."""
    link = connected_source(request, warehouse_id, source_id)
    warehouse, source = link.warehouse, link.source
    collections = Collection.objects.filter(warehouse=warehouse, source=source)
    refusal = rules.refuse_selective_sync(request.workspace.plan)
    can_toggle = request.can_change and refusal is None
    error = None
    if request.method == "POST":
        override = _override(request, source.pk)
        try:
            operations.set_selective_sync(warehouse, request.user, [override])
        except Refusal as refused:
            error = refused.message
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect(request.path)
        collection = collections.filter(name=override["collection"]).first()
        if collection is not None:
            context = {
                "warehouse": warehouse,
                "source": source,
                "collection": _with_columns(collection),
                "expanded": "property" in override,
                "error": error,
                "can_toggle": can_toggle,
            }
            return render(request, "warehouses/_collection.html", context)
    context = {
        "warehouse": warehouse,
        "source": source,
        "schema": schema_name(warehouse.settings.get("schemaPrefix", ""), source.slug),
        "collections": [_with_columns(c) for c in collections],
        "refusal": refusal,
        "can_toggle": can_toggle,
    }
    return render(request, "warehouses/selective_sync.html", context)
