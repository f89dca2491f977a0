from segapp.models import Role


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
        "role_choices": Role.choices,
    }
