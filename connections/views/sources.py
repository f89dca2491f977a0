"""Source pages: list, create from the source catalog, the source page, write keys, delete."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from catalog.models import SourceMetadata
from connections import sources
from connections.forms import SourceForm
from connections.models import DestinationInstance, Source, WriteKey
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import add_refusal
from segapp.navigation import safe_next, with_next
from segapp.ordering import natural_sorted
from segapp.paging import page_of
from segapp.refusal import Refusal


def source_in_workspace(request, source_id) -> Source:
    return get_in_workspace(
        Source.objects.select_related("metadata"), request.workspace, pk=source_id
    )


# What a list of thousands of instances need not read: each instance's settings, and (below) a
# copy of its catalog entry's settings schema per row: catalog entries are prefetched once each.
LISTED_WITHOUT = ("settings", "encrypted_secrets")


def sources_with_instances(workspace) -> list[Source]:
    """The workspace's sources, each with its instances (``connected``) and their catalog
    entries, both in natural order (a few queries, however many rows)."""
    instances = DestinationInstance.objects.defer(*LISTED_WITHOUT).prefetch_related("metadata")
    rows = natural_sorted(
        workspace.sources.select_related("metadata").prefetch_related(
            Prefetch("instances", queryset=instances)
        )
    )
    for source in rows:
        source.connected = natural_sorted(source.instances.all())
    return rows


# Sources per page on the pages that list each source with its instances.
SOURCES_PER_PAGE = 25


def pipeline_context(request) -> dict:
    """A page of sources and every instance of them, for the pages that list both with health."""
    page = page_of(sources_with_instances(request.workspace), request, SOURCES_PER_PAGE)
    rows = page.object_list
    return {"sources": rows, "instances": [i for s in rows for i in s.connected], "page": page}


@workspace_view()
def source_list(request):
    return render(request, "connections/sources.html", pipeline_context(request))


@workspace_view()
@require_http_methods(["GET", "POST"])
def source_create(request, catalog_slug):
    metadata = get_object_or_404(SourceMetadata, slug=catalog_slug)
    initial = {"name": metadata.name, "slug": slugify(metadata.name)}
    form = SourceForm(request.POST or None, initial=initial)
    # Added on the way to configuring a destination: go back there (Confirm Source) after.
    next_url = safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        try:
            source = sources.create_source(
                request.workspace, metadata, request.user, **form.cleaned_data
            )
        except Refusal as refusal:
            add_refusal(form, refusal)
        else:
            if next_url:
                return redirect(next_url)
            return redirect("connections:source-detail", request.workspace.slug, source.pk)
    entry_url = reverse("catalog:entry", args=[request.workspace.slug, "sources", metadata.slug])
    context = {"form": form, "entry": metadata, "next": next_url,
               "back_url": with_next(entry_url, next_url)}  # fmt: skip
    return render(request, "connections/source_create.html", context)


def analytics_js_snippet(request, write_key: str) -> str:
    """analytics.js pointed at this Segapp: ``cdnURL`` makes it fetch its settings and device-mode
    tools' code from here, and the settings send its events here (README, Device mode)."""
    host = request.build_absolute_uri("/").rstrip("/")
    options = ""
    if not request.is_secure():
        # A plain-HTTP Segapp: analytics.js would otherwise send its events over HTTPS.
        options = ',\n  { integrations: { "Segment.io": { protocol: "http" } } }'
    return (
        'import { AnalyticsBrowser } from "@segment/analytics-next";\n\n'
        "export const analytics = AnalyticsBrowser.load(\n"
        f'  {{ writeKey: "{write_key}", cdnURL: "{host}" }}{options}\n'
        ");"
    )


def _render_source(request, source, form=None, key_error=None):
    write_keys = list(source.write_keys.all())  # oldest first: the snippet shows the first
    first = write_keys[0].key if write_keys else None
    context = {
        "snippet": analytics_js_snippet(request, first) if first and source.kind == "web" else "",
        "source": source,
        "form": form or SourceForm(initial={"name": source.name, "slug": source.slug}),
        "write_keys": write_keys,
        "instances": natural_sorted(source.instances.select_related("metadata")),
        "key_error": key_error,
    }
    return render(request, "connections/source.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def source_detail(request, source_id):
    source = source_in_workspace(request, source_id)
    form = None
    if request.method == "POST":
        form = SourceForm(request.POST)
        if form.is_valid():
            try:
                sources.update_source(source, request.user, **form.cleaned_data)
            except Refusal as refusal:
                add_refusal(form, refusal)
            else:
                return redirect("connections:source-detail", request.workspace.slug, source.pk)
    return _render_source(request, source, form)


@workspace_view()
@require_POST
def source_toggle(request, source_id):
    source = source_in_workspace(request, source_id)
    source = sources.update_source(
        source, request.user, enabled=request.POST.get("enabled") == "true"
    )
    if request.htmx:
        return render(request, "connections/_source_toggle.html", {"source": source})
    return redirect("connections:source-detail", request.workspace.slug, source.pk)


@workspace_view()
@require_POST
def write_key_add(request, source_id):
    source = source_in_workspace(request, source_id)
    sources.add_write_key(source, request.user)
    return _write_keys_or_page(request, source)


@workspace_view()
@require_POST
def write_key_delete(request, source_id, key_id):
    source = source_in_workspace(request, source_id)
    key = get_object_or_404(WriteKey, pk=key_id, source=source)
    error = None
    try:
        sources.delete_write_key(key, request.user)
    except Refusal as refusal:
        error = refusal.message
    return _write_keys_or_page(request, source, error)


def _write_keys_or_page(request, source, error=None):
    if request.htmx:
        context = {"source": source, "write_keys": source.write_keys.all(), "key_error": error}
        return render(request, "connections/_write_keys.html", context)
    if error:
        return _render_source(request, source, key_error=error)
    return redirect("connections:source-detail", request.workspace.slug, source.pk)


@workspace_view()
@require_http_methods(["GET", "POST"])
def source_delete(request, source_id):
    source = source_in_workspace(request, source_id)
    if request.method == "POST":
        sources.delete_source(source, request.user)
        messages.success(request, f"Deleted the source “{source.name}”.")
        return redirect("connections:source-list", request.workspace.slug)
    return render(request, "connections/source_delete.html", {"source": source})
