"""The Privacy Portal's field pages: the Inbox (new fields with the matchers' suggestion), the
Inventory (the fields classified), a field's page, and its CSV download. Every classification
goes through ``privacy.inventory``; only workspace owners classify (as in Segment, where only
owners reach the Privacy Portal), every member may look."""

import csv
from collections import defaultdict
from datetime import timedelta

from django.contrib import messages
from django.db.models import Case, IntegerField, Sum, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from privacy import inventory, matchers
from privacy.models import Classification, Field, FieldSighting
from privacy.views import matcher_pages
from segapp.access import get_in_workspace, workspace_view
from segapp.models import Role
from segapp.paging import page_of
from segapp.refusal import Refusal

P = "w/<slug:workspace_slug>/privacy/"
INBOX_DAYS = 7  # Segment's Inbox shows the fields sent in the past 7 days
PER_PAGE = 50
SHOWN_PER_ROW = 3  # sources and events named in a row; the field's page lists them all
SIGHTINGS_PER_PAGE = 50
ORDER = {Classification.RED: 0, Classification.YELLOW: 1, Classification.GREEN: 2}
OWNER = Role.OWNER


def _strictest_first(column: str):
    return Case(
        *[When(**{column: c}, then=Value(rank)) for c, rank in ORDER.items()],
        default=Value(3),
        output_field=IntegerField(),
    )


def _sources(workspace):
    return list(workspace.sources.order_by("name").values_list("pk", "name"))


def _filtered(request, fields, column: str):
    """``?classification=`` (or the Inbox's suggestion) and ``?source=``, as the filter form
    sends them; unknown values filter nothing."""
    chosen = request.GET.get("classification", "")
    if chosen in Classification.values:
        fields = fields.filter(**{column: chosen})
    source = request.GET.get("source", "")
    if source:
        fields = fields.filter(
            pk__in=FieldSighting.objects.filter(source_id=source).values("field_id")
        )
    return fields, {"classification": chosen, "source": source}


def _rows(fields) -> list[dict]:
    """A page's fields with the sources and events they were seen in (one query)."""
    seen = defaultdict(lambda: {"sources": {}, "events": {}, "count": 0})
    sightings = (
        FieldSighting.objects.filter(field__in=[f.pk for f in fields])
        .order_by("-count", "event")
        .values_list("field_id", "source_id", "source__name", "event", "count")
    )
    for field_id, source_id, source_name, event, count in sightings:
        entry = seen[field_id]
        entry["sources"][source_id] = source_name
        entry["events"][event] = None
        entry["count"] += count
    rows = []
    for field in fields:
        entry = seen[field.pk]
        sources, events = list(entry["sources"].values()), list(entry["events"])
        rows.append(
            {
                "field": field,
                "sources": sources[:SHOWN_PER_ROW],
                "more_sources": max(len(sources) - SHOWN_PER_ROW, 0),
                "events": events[:SHOWN_PER_ROW],
                "more_events": max(len(events) - SHOWN_PER_ROW, 0),
                "count": entry["count"],
                "builtin": field.suggested_by in matchers.BUILTIN_NAMES,
            }
        )
    return rows


def _list_context(request, tab: str, page, filters) -> dict:
    return {
        "privacy_tab": tab,
        "nav_section": "privacy",
        "page": page,
        "rows": _rows(list(page.object_list)),
        "filters": filters,
        "sources": _sources(request.workspace),
        "classifications": Classification.choices,
        "view": tab,
        "next_url": request.get_full_path(),
    }


@workspace_view(change=OWNER)
@require_GET
def inbox(request):
    since = timezone.now() - timedelta(days=INBOX_DAYS)
    fields = Field.objects.filter(
        workspace=request.workspace, classification="", last_seen_at__gte=since
    ).order_by(_strictest_first("suggested"), "path")
    fields, filters = _filtered(request, fields, "suggested")
    page = page_of(fields, request, PER_PAGE)
    context = _list_context(request, "inbox", page, filters)
    context["inbox_days"] = INBOX_DAYS
    return render(request, "privacy/inbox.html", context)


@workspace_view(change=OWNER)
@require_GET
def inventory_page(request):
    fields = (
        Field.objects.filter(workspace=request.workspace)
        .exclude(classification="")
        .select_related("classified_by")
        .order_by(_strictest_first("classification"), "path")
    )
    fields, filters = _filtered(request, fields, "classification")
    page = page_of(fields, request, PER_PAGE)
    context = _list_context(request, "inventory", page, filters)
    counts = Field.objects.filter(workspace=request.workspace).aggregate(
        **{c: Sum(Case(When(classification=c, then=1), default=0)) for c in Classification.values}
    )
    context["counts"] = {c: counts[c] or 0 for c in Classification.values}
    return render(request, "privacy/inventory.html", context)


def field_in_workspace(request, field_id) -> Field:
    queryset = Field.objects.select_related("classified_by")
    return get_in_workspace(queryset, request.workspace, pk=field_id)


def skeleton(path: str) -> str:
    """Where the field sits in a message, as JSON with its value left out."""
    parts = path.split(".")
    lines = ["{"]
    for depth, part in enumerate(parts, start=1):
        key = part.replace("\\", "\\\\").replace('"', '\\"')
        last = depth == len(parts)
        lines.append("  " * depth + f'"{key}": ' + ("…" if last else "{"))
    lines += ["  " * depth + "}" for depth in range(len(parts) - 1, -1, -1)]
    return "\n".join(lines)


@workspace_view(change=OWNER)
@require_GET
def field_detail(request, field_id):
    field = field_in_workspace(request, field_id)
    sightings = (
        FieldSighting.objects.filter(field=field)
        .select_related("source")
        .order_by("-last_seen_at", "pk")
    )
    matcher = next((m for m in matchers.BUILTIN if m.name == field.suggested_by), None)
    context = {
        "privacy_tab": "inventory" if field.classification else "inbox",
        "nav_section": "privacy",
        "field": field,
        "sightings": page_of(sightings, request, SIGHTINGS_PER_PAGE),
        "totals": sightings.aggregate(count=Sum("count")),
        "builtin_matcher": matcher,
        "skeleton": skeleton(field.path),
        "classifications": Classification.choices,
        "view": "detail",
    }
    return render(request, "privacy/inventory_field.html", context)


def _back(request, default: str) -> str:
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return default


@workspace_view(change=OWNER)
@require_POST
def field_classify(request, field_id):
    """One field's change from a row or its page: ``classification`` (Red, Yellow or Green, the
    Inbox's Add to Inventory) or ``action=inbox``. HTMX gets the row back, in place."""
    field = field_in_workspace(request, field_id)
    view = request.POST.get("view", "inbox")
    before = field.classification
    try:
        if request.POST.get("action") == "inbox":
            inventory.return_to_inbox(request.workspace, request.user, [field.pk])
        else:
            classification = request.POST.get("classification", "")
            inventory.classify(request.workspace, request.user, [field.pk], classification)
    except Refusal as refused:
        error = refused.message
    else:
        error = None
    field = field_in_workspace(request, field_id)
    if request.htmx and view in ("inbox", "inventory"):
        context = {
            "row": _rows([field])[0],
            "view": view,
            "error": error,
            "done": error is None,
            "before": before,
            "classifications": Classification.choices,
            "next_url": request.POST.get("next", ""),
        }
        response = render(request, "privacy/_field_row.html", context)
        return trigger_client_event(response, "fieldClassified") if error is None else response
    if error:
        messages.error(request, error)
    elif field.classification:
        messages.success(
            request, f"{field.path} is in the Inventory as {field.get_classification_display()}."
        )
    else:
        messages.success(request, f"{field.path} is back in the Inbox.")
    return redirect(_back(request, reverse("privacy:field", args=[request.workspace.slug, field.pk])))  # fmt: skip


BULK_ACTIONS = {
    "suggested": "Added to the Inventory as suggested",
    **{c: f"Classified {label}" for c, label in Classification.choices},
    "inbox": "Returned to the Inbox",
}


@workspace_view(change=OWNER)
@require_POST
def fields_classify(request):
    """Several fields at once, from the checkboxes of the Inbox or the Inventory."""
    ids = [i for i in request.POST.getlist("fields") if i.isdigit()]
    action = request.POST.get("action", "")
    workspace, user = request.workspace, request.user
    try:
        if action == "suggested":
            changes = inventory.add_to_inventory(workspace, user, ids)
        elif action == "inbox":
            changes = inventory.return_to_inbox(workspace, user, ids)
        else:
            changes = inventory.classify(workspace, user, ids, action)
    except Refusal as refused:
        messages.error(request, refused.message)
    else:
        n = len(changes)
        messages.success(request, f"{BULK_ACTIONS[action]}: {n} field{'s' if n != 1 else ''}.")
    return redirect(_back(request, reverse("privacy:inbox", args=[workspace.slug])))


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@workspace_view(change=OWNER)
@require_GET
def inventory_csv(request):
    """The whole Inventory, whatever the page's filters (as Segment's Download CSV)."""
    workspace = request.workspace
    fields = list(
        Field.objects.filter(workspace=workspace)
        .exclude(classification="")
        .select_related("classified_by")
        .order_by("path")
    )
    seen = defaultdict(lambda: ({}, {}, [0]))
    sightings = (
        FieldSighting.objects.filter(field__workspace=workspace)
        .exclude(field__classification="")
        .values_list("field_id", "source__name", "event", "count")
    )
    for field_id, source_name, event, count in sightings.order_by("source__name", "event"):
        sources, events, total = seen[field_id]
        sources[source_name] = events[event] = None
        total[0] += count
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="{workspace.slug}-privacy-inventory-{stamp}.csv"'  # fmt: skip
    writer = csv.writer(response)
    writer.writerow(["field", "classification", "suggested", "matcher", "sources", "events",
                     "times seen in samples", "first seen", "last seen", "classified at",
                     "classified by"])  # fmt: skip
    for f in fields:
        sources, events, total = seen[f.pk]
        row = [f.path, f.classification, f.suggested, f.suggested_by, "; ".join(sources),
               "; ".join(events), total[0], f.first_seen_at.isoformat(),
               f.last_seen_at.isoformat(), f.classified_at.isoformat() if f.classified_at else "",
               f.classified_by.email if f.classified_by else ""]  # fmt: skip
        writer.writerow([_cell(v) for v in row])
    return response


urls = [
    path(P, inbox, name="inbox"),
    path(P + "inventory/", inventory_page, name="inventory"),
    path(P + "inventory.csv", inventory_csv, name="inventory-csv"),
    path(P + "fields/classify/", fields_classify, name="fields-classify"),
    path(P + "fields/<int:field_id>/", field_detail, name="field"),
    path(P + "fields/<int:field_id>/classify/", field_classify, name="field-classify"),
    *matcher_pages.urls,
]
