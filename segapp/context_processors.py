from segapp.models import Role

# The sidebar section each page belongs to, by URL name; a page not named here is in the section of
# its app ("connections" pages of a source are under Sources, of an instance under Destinations).
NAV_SECTIONS = {
    "segapp:workspace-overview": "overview",
    "segapp:settings-general": "general",
    "segapp:member-list": "members",
    "segapp:token-list": "tokens",
    "segapp:audit-trail": "audit",
    "segapp:system-status": "system",
    "catalog:catalog": "catalog",
    "catalog:entry": "catalog",
    "connections:instance-list": "destinations",
    "connections:instance-confirm-source": "catalog",
    "warehouses:create": "catalog",
}
INSTANCE_KWARG = "instance_id"


def nav_section(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if section := NAV_SECTIONS.get(match.view_name):
        return section
    if match.namespace in ("warehouses", "privacy"):
        return match.namespace
    if match.namespace in ("connections", "delivery"):
        return "destinations" if INSTANCE_KWARG in match.kwargs else "sources"
    return ""


def navigation(request):
    """The workspace switcher (one lazy query) and the current workspace, on signed-in pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return list(user.memberships.select_related("workspace").order_by("workspace__name"))

    return {
        "my_memberships": memberships,
        "workspace": getattr(request, "workspace", None),
        "membership": getattr(request, "membership", None),
        "can_change": getattr(request, "can_change", False),
        "role_choices": Role.choices,
        "nav_section": nav_section(request),
    }
