"""Warehouse pages: the list, Add (the catalog's Configure, Test connection, Save), and the
warehouse page (health, Sync now, sync history, connected sources, schedule, settings, enable,
delete). Every change goes through ``warehouses.operations``; a refusal is shown as its message."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from catalog.models import DestinationKind, DestinationMetadata
from connections.forms import ConnectionSettingsForm
from connections.settings_schema import SettingsInvalid
from connections.views.sources import source_in_workspace
from delivery.tasks import publish
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import add_refusal
from segapp.ordering import natural_sorted
from segapp.refusal import Refusal
from warehouses import operations, rules, tasks
from warehouses.forms import (
    INTERVALS,
    ConnectSourceForm,
    ScheduleForm,
    WarehouseNameForm,
    every,
)
from warehouses.health import health_of
from warehouses.models import ConnectedSource, Sync, Warehouse
from warehouses.naming import schema_name
from warehouses.postgres import WarehouseError
from warehouses.schedule import interval_minutes

HISTORY = 25  # syncs shown on the warehouse page, newest first


def warehouse_in_workspace(request, warehouse_id) -> Warehouse:
    queryset = Warehouse.objects.select_related("metadata", "workspace")
    return get_in_workspace(queryset, request.workspace, pk=warehouse_id)


def detail_url(request, warehouse: Warehouse) -> str:
    return reverse("warehouses:detail", args=[request.workspace.slug, warehouse.pk])


def catalog_offer(request, entry: DestinationMetadata) -> dict:
    """Configure on a catalog warehouse entry, or why the workspace may not add one, with links
    to the warehouses it has (registered with the catalog in ``apps.py``)."""
    refusal = operations.refuse_new_warehouse(request.workspace, entry)
    existing = request.workspace.warehouses.select_related("metadata") if refusal else []
    return {
        "configure_url": reverse("warehouses:create", args=[request.workspace.slug, entry.slug]),
        "refusal": refusal,
        "see_also": [(f"Open {w.display_name}", detail_url(request, w)) for w in existing],
    }


@workspace_view()
def warehouse_list(request):
    warehouses = natural_sorted(
        request.workspace.warehouses.select_related("metadata", "workspace").prefetch_related(
            Prefetch("connected_sources", ConnectedSource.objects.select_related("source"))
        ),
        key=lambda w: w.display_name,
    )
    health = health_of(warehouses)
    rows = [(w, health[w.pk]) for w in warehouses]
    return render(request, "warehouses/list.html", {"rows": rows})


def _test(metadata, form, stored_secrets=None) -> dict | None:
    """Test connection with the form's settings: {"ok": True}, or the database's message and a
    hint; None when a setting itself is wrong (the form then carries the error)."""
    try:
        operations.test_connection(metadata, form.to_settings(), stored_secrets)
    except SettingsInvalid as invalid:
        for field, message in invalid.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return None
    except WarehouseError as failed:
        return {"ok": False, "message": failed.message, "hint": failed.hint}
    return {"ok": True}


def _test_and_save(request, metadata, forms, save, done: str, stored=None):
    """Test connection (``action=test``), or Save, which tests first and then calls
    ``save(name, settings)``: (test result, the redirect after a save, or None)."""
    name_form, settings_form = forms
    if not (name_form.is_valid() and settings_form.is_valid()):
        return None, None
    test = _test(metadata, settings_form, stored)
    if not (test and test["ok"]) or request.POST.get("action") != "save":
        return test, None
    try:
        warehouse = save(name_form.cleaned_data["name"], settings_form.to_settings())
    except Refusal as refused:
        add_refusal(name_form, refused)
        return test, None
    messages.success(request, done.format(warehouse.display_name))
    url = detail_url(request, warehouse)
    return test, HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _tested(request, template: str, context: dict):
    """After Test connection, or a Save whose test failed: HTMX gets the result alone (typed
    passwords stay in the browser's form), a plain form the whole page."""
    if request.htmx:
        return render(request, "warehouses/_connection_test.html", context)
    return render(request, template, context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def warehouse_create(request, entry_slug):
    """Connection settings from the catalog entry's options; Save tests the connection first,
    as Segment does, and creates only a warehouse that connects."""
    metadata = get_object_or_404(
        DestinationMetadata, slug=entry_slug, kind=DestinationKind.WAREHOUSE
    )
    offer = catalog_offer(request, metadata)
    name_form = WarehouseNameForm(request.POST or None)
    settings_form = ConnectionSettingsForm(
        metadata, request.POST or None, initial=ConnectionSettingsForm.initial_from(metadata, {})
    )
    context = {
        **offer,
        "entry": metadata,
        "name_form": name_form,
        "settings_form": settings_form,
        "action_url": request.path,
    }
    if request.method == "POST" and offer["refusal"] is None:
        context["test"], saved = _test_and_save(
            request,
            metadata,
            (name_form, settings_form),
            lambda name, settings: operations.create_warehouse(
                request.workspace, metadata, request.user, name=name, settings=settings
            ),
            "Added {}. Connect a source next.",
        )
        return saved or _tested(request, "warehouses/create.html", context)
    return render(request, "warehouses/create.html", context)


def _schedule_context(request, warehouse) -> dict:
    plan = warehouse.workspace.plan
    # Whether this plan may choose the interval at all, asked of the rule with the plan's own.
    refusal = rules.refuse_interval(plan, rules.PLAN_INTERVAL[plan])
    intervals = [m for m in INTERVALS if rules.refuse_interval(plan, m) is None]
    hours = [
        t["hourOfDay"] for t in (warehouse.advanced_schedule or {}).get("times", []) if t["enabled"]
    ]
    return {
        "every": every(interval_minutes(warehouse)),
        "plan_every": every(rules.PLAN_INTERVAL[plan]),
        "advanced_hours": [f"{h:02d}:00" for h in hours],
        "schedule_refusal": refusal,
        "schedule_form": None
        if refusal
        else ScheduleForm(
            rules.PLAN_INTERVAL[plan], intervals, initial=ScheduleForm.initial_from(warehouse)
        ),
    }


def _history_context(warehouse) -> dict:
    syncs = list(Sync.objects.filter(warehouse=warehouse).select_related("source")[:HISTORY])
    return {"syncs": syncs, "syncing": any(not s.is_finished for s in syncs)}


def _detail_context(request, warehouse, **extra) -> dict:
    connected = list(warehouse.connected_sources.select_related("source"))
    prefix = warehouse.settings.get("schemaPrefix", "")
    for link in connected:
        link.schema = schema_name(prefix, link.source.slug)
    taken = {link.source_id for link in connected}
    candidates = [s for s in natural_sorted(request.workspace.sources.all()) if s.pk not in taken]
    context = {
        "warehouse": warehouse,
        "entry": warehouse.metadata,
        "health": health_of([warehouse])[warehouse.pk],
        "connected": connected,
        "connect_form": ConnectSourceForm(candidates) if candidates else None,
        "has_sources": bool(taken) or bool(candidates),
        "name_form": WarehouseNameForm(initial={"name": warehouse.name}),
        "settings_form": ConnectionSettingsForm(
            warehouse.metadata,
            initial=ConnectionSettingsForm.initial_from(
                warehouse.metadata, warehouse.masked_settings()
            ),
            stored_secrets=warehouse.secrets.keys(),
        ),
        "action_url": reverse("warehouses:settings", args=[request.workspace.slug, warehouse.pk]),
        **_history_context(warehouse),
        **_schedule_context(request, warehouse),
    }
    return {**context, **extra}


def _history(request, warehouse, **extra):
    """The sync history fragment; polling stops once no sync of the page is unfinished."""
    context = {"warehouse": warehouse, **_history_context(warehouse), **extra}
    response = render(request, "warehouses/_sync_history.html", context)
    if request.method == "GET" and not context["syncing"]:
        return HttpResponseStopPolling(response.content)
    return response


@workspace_view()
def warehouse_detail(request, warehouse_id):
    warehouse = warehouse_in_workspace(request, warehouse_id)
    if request.htmx and request.htmx.target == "sync-history":
        return _history(request, warehouse)
    return render(request, "warehouses/detail.html", _detail_context(request, warehouse))


@workspace_view()
@require_POST
def warehouse_sync(request, warehouse_id):
    """Sync now: a sync of every connected source, sent to a worker."""
    warehouse = warehouse_in_workspace(request, warehouse_id)
    try:
        started = operations.sync_now(warehouse, request.user)
    except Refusal as refused:
        notice = {"sync_error": refused.message}
    else:
        for sync, new in started:
            if new:
                publish(tasks.run_sync, sync.pk)
        count = len(started)
        notice = {"sync_notice": f"Sync started for {count} source{'s' if count > 1 else ''}."}
    if request.htmx:
        return _history(request, warehouse, **notice)
    if "sync_error" in notice:
        messages.error(request, notice["sync_error"])
    else:
        messages.success(request, notice["sync_notice"])
    return redirect(detail_url(request, warehouse))


def _change(request, warehouse, change, done: str):
    """Runs one operation for a plain form, then back to the warehouse page with its outcome."""
    try:
        change()
    except Refusal as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect(detail_url(request, warehouse))


@workspace_view()
@require_POST
def warehouse_toggle(request, warehouse_id):
    warehouse = warehouse_in_workspace(request, warehouse_id)
    enabled = request.POST.get("enabled") == "true"
    done = "Enabled: scheduled syncs run again." if enabled else "Disabled: syncs are paused."
    return _change(
        request,
        warehouse,
        lambda: operations.update_warehouse(warehouse, request.user, enabled=enabled),
        done,
    )


@workspace_view()
@require_POST
def warehouse_settings(request, warehouse_id):
    """Test connection or Save (tested first) for a warehouse's connection settings; a password
    left empty keeps the stored one."""
    warehouse = warehouse_in_workspace(request, warehouse_id)
    metadata, stored = warehouse.metadata, warehouse.secrets
    name_form = WarehouseNameForm(request.POST)
    settings_form = ConnectionSettingsForm(metadata, request.POST, stored_secrets=stored.keys())
    test, saved = _test_and_save(
        request,
        metadata,
        (name_form, settings_form),
        lambda name, settings: operations.update_warehouse(
            warehouse, request.user, name=name, settings=settings
        ),
        "Settings of {} saved.",
        stored,
    )
    if saved:
        return saved
    extra = {"name_form": name_form, "settings_form": settings_form, "test": test}
    return _tested(request, "warehouses/detail.html", _detail_context(request, warehouse, **extra))


@workspace_view()
@require_POST
def warehouse_schedule(request, warehouse_id):
    warehouse = warehouse_in_workspace(request, warehouse_id)
    plan = warehouse.workspace.plan
    form = ScheduleForm(rules.PLAN_INTERVAL[plan], INTERVALS, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an interval, hours and a time zone from the lists.")
        return redirect(detail_url(request, warehouse))
    advanced_enabled = form.cleaned_data["advanced_enabled"]
    return _change(
        request,
        warehouse,
        lambda: operations.set_schedule(
            warehouse,
            request.user,
            every_minutes=form.cleaned_data["every_minutes"],
            advanced_enabled=advanced_enabled,
            advanced=form.advanced() if advanced_enabled else None,
        ),
        "Schedule saved.",
    )


@workspace_view()
@require_POST
def source_connect(request, warehouse_id):
    warehouse = warehouse_in_workspace(request, warehouse_id)
    source = source_in_workspace(request, request.POST.get("source", ""))
    return _change(
        request,
        warehouse,
        lambda: operations.connect_source(warehouse, source, request.user),
        f"Connected {source.name}: its events load from the next sync on.",
    )


def connected_source(request, warehouse_id, source_id) -> ConnectedSource:
    warehouse = warehouse_in_workspace(request, warehouse_id)
    queryset = ConnectedSource.objects.select_related("source", "warehouse__metadata")
    return get_object_or_404(queryset, warehouse=warehouse, source_id=source_id)


@workspace_view()
@require_http_methods(["GET", "POST"])
def source_disconnect(request, warehouse_id, source_id):
    link = connected_source(request, warehouse_id, source_id)
    warehouse, source = link.warehouse, link.source
    if request.method == "POST":
        return _change(
            request,
            warehouse,
            lambda: operations.disconnect_source(warehouse, source, request.user),
            f"Disconnected {source.name}. What was loaded stays in the warehouse.",
        )
    return render(request, "warehouses/disconnect.html", {"warehouse": warehouse, "source": source})


@workspace_view()
@require_http_methods(["GET", "POST"])
def warehouse_delete(request, warehouse_id):
    warehouse = warehouse_in_workspace(request, warehouse_id)
    if request.method == "POST":
        name = warehouse.display_name
        operations.delete_warehouse(warehouse, request.user)
        messages.success(
            request, f"Deleted the warehouse “{name}”. Its tables stay in the database."
        )
        return redirect("warehouses:list", request.workspace.slug)
    return render(request, "warehouses/delete.html", {"warehouse": warehouse})
