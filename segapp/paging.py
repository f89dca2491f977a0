"""Console lists one page at a time: a workspace may hold thousands of instances, and a page
listing them all is a megabyte of HTML that takes longer to render than every query behind it."""

from django.core.paginator import Page, Paginator


def page_of(items: list, request, per_page: int) -> Page:
    """The page of ``items`` (already in display order) that ``?page=`` asks for; an unknown or
    out-of-range number gives the nearest page, never an error."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
