"""Catalog pages: Destinations and Sources tabs with search and category filter, entry pages, logos."""

import hashlib
from xml.sax.saxutils import escape

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from catalog.models import DestinationMetadata, SourceMetadata
from segapp.access import workspace_view

TABS = {"destinations": DestinationMetadata, "sources": SourceMetadata}
LIST_FIELDS = ("id", "slug", "name", "description", "categories")


def _model(tab: str):
    if tab not in TABS:
        raise Http404("No such catalog tab")
    return TABS[tab]


@workspace_view()
@vary_on_headers("HX-Request")
def catalog_list(request, tab):
    """The tab is in the URL; ``q`` and ``category`` narrow it. HTMX asks for the results alone."""
    model = _model(tab)
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "").strip()
    entries = model.objects.only(*LIST_FIELDS)
    if query:
        entries = entries.filter(search_text__contains=query.lower())
    if category:
        entries = entries.filter(category_index__contains=f"|{category}|")
    context = {"tab": tab, "entries": entries, "query": query, "category": category}
    if request.htmx and request.htmx.target == "catalog-results":
        return render(request, "catalog/_results.html", context)
    # Every category appears in some entry's list; one query over that column builds the filter.
    all_categories = model.objects.values_list("categories", flat=True)
    context["categories"] = sorted({c for cats in all_categories for c in cats})
    return render(request, "catalog/catalog.html", context)


@workspace_view()
def catalog_entry(request, tab, slug):
    entry = _model(tab).objects.filter(slug=slug).first()
    if entry is None:
        raise Http404("No such catalog entry")
    return render(request, f"catalog/{tab[:-1]}_entry.html", {"tab": tab, "entry": entry})


_PALETTE = ["#2f6f4f", "#3b5bdb", "#9c36b5", "#c2255c", "#e8590c", "#0b7285", "#5c940d", "#364fc7"]


@require_GET
@cache_control(public=True, max_age=86400)
def logo(request, slug):
    """A monogram for an entry, generated here so pages never load images from another host."""
    entry = DestinationMetadata.objects.filter(slug=slug).only("name").first() or (
        SourceMetadata.objects.filter(slug=slug).only("name").first()
    )
    if entry is None:
        raise Http404("No such catalog entry")
    words = [w for w in entry.name.replace("(", " ").replace(".", " ").split() if w[0].isalnum()]
    initials = "".join(w[0] for w in words[:2]).upper() or "?"
    color = _PALETTE[int(hashlib.sha1(slug.encode()).hexdigest(), 16) % len(_PALETTE)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{color}"/>'
        '<text x="32" y="41" font-family="system-ui,sans-serif" font-size="24" font-weight="600" '
        f'fill="#fff" text-anchor="middle">{escape(initials)}</text></svg>'
    )
    return HttpResponse(svg, content_type="image/svg+xml")
