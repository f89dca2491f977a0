"""Workspace access for console views: the one place that decides who may see and change what.

A user who is not a member of a workspace gets 404 (its existence is not revealed); a member whose
role is too low gets 403. Reading needs ``view`` (read-only by default); any unsafe method needs
``change`` (member by default, owner for members, tokens and plan).
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from segapp.models import Membership, Role

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def workspace_view(change: Role = Role.MEMBER, view: Role = Role.READ_ONLY):
    def decorator(view_func):
        @login_required
        @wraps(view_func)
        def wrapper(request, workspace_slug, *args, **kwargs):
            membership = (
                Membership.objects.select_related("workspace")
                .filter(workspace__slug=workspace_slug, user=request.user)
                .first()
            )
            if membership is None:
                raise Http404("No such workspace")
            needed = view if request.method in SAFE_METHODS else change
            if not membership.allows(needed):
                raise PermissionDenied(
                    f"Your role ({membership.get_role_display()}) cannot do this."
                )
            request.workspace = membership.workspace
            request.membership = membership
            # Pages offer write controls only to whom this view lets change things.
            request.can_change = membership.allows(change)
            if request.session.get("workspace_id") != membership.workspace_id:
                request.session["workspace_id"] = membership.workspace_id
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator


def get_in_workspace(queryset, workspace, **lookup):
    """One object of the current workspace, or 404 (other workspaces' objects look absent)."""
    obj = queryset.filter(workspace=workspace, **lookup).first()
    if obj is None:
        raise Http404("Not found in this workspace")
    return obj
