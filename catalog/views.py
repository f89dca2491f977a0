"""Catalog pages: Destinations, Warehouses and Sources tabs with search and category filter, entry
pages, logos."""

import hashlib
from collections.abc import Callable
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from catalog.models import CatalogEntry, DestinationKind, DestinationMetadata, SourceMetadata
from segapp.access import workspace_view
from segapp.navigation import safe_next, with_next
from segapp.ordering import natural_sorted

# Each tab's entries. Warehouses have their own tab and leave the Destinations one, as in
# Segment's catalog; Data Lakes stay a destination.
TABS = {
    "destinations": lambda: DestinationMetadata.objects.exclude(kind=DestinationKind.WAREHOUSE),
    "warehouses": lambda: DestinationMetadata.objects.filter(kind=DestinationKind.WAREHOUSE),
    "sources": lambda: SourceMetadata.objects.all(),
}
LIST_FIELDS = ("id", "slug", "name", "description", "categories")
# A destination or warehouse tile also says when Segapp cannot send to (or load into) the entry.
TILE_FIELDS = {
    "destinations": (*LIST_FIELDS, "connection_modes", "cloud_delivery"),
    "warehouses": (*LIST_FIELDS, "connection_modes", "cloud_delivery"),
}
# What an entry page's Configure offers, for the tabs whose flow belongs to an app built on the
# catalog: ``offer(request, entry)`` gives ``configure_url``, and ``refusal`` with ``see_also``
# ((text, url) links) when the workspace may not add it. The app registers it at start-up
# (``register_offer``), since the catalog imports none of the apps that read it.
Offer = Callable[[object, CatalogEntry], dict]
OFFERS: dict[str, Offer] = {}


def register_offer(tab: str, offer: Offer) -> None:
    OFFERS[tab] = offer


def _entries(tab: str):
    if tab not in TABS:
        raise Http404("No such catalog tab")
    return TABS[tab]()


def catalog_results_context(request, tab: str, entry_route: tuple[str, str] | None = None) -> dict:
    """A tab's entries narrowed by ``q`` and ``category``, and the route that opens one entry
    (the catalog's own entry page, or another flow's, e.g. Add Destination from a source)."""
    tab_entries = _entries(tab)
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "").strip()
    entries = tab_entries.only(*TILE_FIELDS.get(tab, LIST_FIELDS))
    if query:
        entries = entries.filter(search_text__contains=query.lower())
    if category:
        entries = entries.filter(category_index__contains=f"|{category}|")

    def categories():
        # Every category appears in some entry's list; one query over that column builds the filter.
        return sorted(
            {c for cats in tab_entries.values_list("categories", flat=True) for c in cats}
        )

    route_name, route_arg = entry_route or ("catalog:entry", tab)
    next_url = safe_next(request, "")
    return {
        # A detour's way back (Add a source from Confirm Source), carried to the entry it opens.
        "next": next_url,
        "entry_query": f"?{urlencode({'next': next_url})}" if next_url else "",
        "tab": tab,
        "entries": natural_sorted(entries),
        "query": query,
        "category": category,
        "categories": categories,
        "entry_route_name": route_name,
        "entry_route_arg": route_arg,
    }


def render_catalog(request, template: str, context: dict):
    """The page, or just its results when HTMX asks for them (the search box and the filter)."""
    if request.htmx and request.htmx.target == "catalog-results":
        template = "catalog/_results.html"
    response = render(request, template, context)
    response["Vary"] = "HX-Request, HX-Target, Cookie"
    return response


@workspace_view()
def catalog_list(request, tab):
    """The tab is in the URL; ``q`` and ``category`` narrow it."""
    return render_catalog(request, "catalog/catalog.html", catalog_results_context(request, tab))


def _offer(request, tab: str, entry) -> dict:
    if tab in OFFERS:
        return OFFERS[tab](request, entry)
    flow = "instance-confirm-source" if tab == "destinations" else "source-create"
    return {
        "configure_url": reverse(f"connections:{flow}", args=[request.workspace.slug, entry.slug])
    }


@workspace_view()
def catalog_entry(request, tab, slug):
    entry = _entries(tab).filter(slug=slug).first()
    if entry is None:
        raise Http404("No such catalog entry")
    next_url = safe_next(request, "")
    offer = _offer(request, tab, entry)
    catalog_url = reverse("catalog:catalog", args=[request.workspace.slug, tab])
    context = {
        **offer,
        "tab": tab,
        "entry": entry,
        "configure_url": with_next(offer["configure_url"], next_url),
        "back_url": with_next(catalog_url, next_url),
    }
    return render(request, f"catalog/{tab[:-1]}_entry.html", context)


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
