"""Workspace pages: create, general settings, members, system status."""

import os

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from segapp import invitations, sweeps, workspaces
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import (
    MemberAddForm,
    MemberRoleForm,
    WorkspaceForm,
    WorkspaceSettingsForm,
    add_refusal,
)
from segapp.models import Membership, Role, Sweep, WorkerPing
from segapp.refusal import Refusal
from segapp.tasks import answer_ping


@login_required
@require_http_methods(["GET", "POST"])
def workspace_create(request):
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = workspaces.create_workspace(request.user, **form.cleaned_data)
        except Refusal as refusal:
            add_refusal(form, refusal)
        else:
            return redirect("segapp:workspace-overview", workspace_slug=workspace.slug)
    return render(request, "segapp/workspace_create.html", {"form": form})


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
def settings_general(request):
    workspace = request.workspace
    initial = {"name": workspace.name, "plan": workspace.plan,
               "retention_days": workspace.retention_days}  # fmt: skip
    form = WorkspaceSettingsForm(request.POST or None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            workspaces.update_workspace(workspace, request.user, **form.cleaned_data)
            saved = True
        except Refusal as refusal:
            add_refusal(form, refusal)
    return render(request, "segapp/settings_general.html", {"form": form, "saved": saved})


def _members_page(request, form, *, notice=None, invitation_path=None, error=None):
    members = request.workspace.memberships.select_related("user").order_by("user__email")
    context = {
        "form": form,
        "members": members,
        "notice": notice,
        # Shown once, to the owner who created the account, to pass on to that person only.
        "invitation_link": request.build_absolute_uri(invitation_path) if invitation_path else None,
        "error": error,
    }
    return render(request, "segapp/members.html", context)


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
def member_list(request):
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership, path = workspaces.add_member(
                request.workspace, actor=request.user, **form.cleaned_data
            )
        except Refusal as refusal:
            add_refusal(form, refusal)
        else:
            notice = (
                f"{membership.user.email} added. Send them this one-time link to choose a password:"
                if path
                else f"{membership.user.email} added. They sign in with their own account."
            )
            return _members_page(request, MemberAddForm(), notice=notice, invitation_path=path)
    return _members_page(request, form)


@workspace_view(change=Role.OWNER)
@require_POST
def member_invite(request, membership_id):
    """A new invitation link for a member who has not chosen a password yet."""
    membership = get_in_workspace(
        Membership.objects.select_related("user", "workspace"), request.workspace, pk=membership_id
    )
    try:
        path = invitations.reissue_invitation(membership, request.user)
    except Refusal as refusal:
        return _members_page(request, MemberAddForm(), error=refusal.message)
    notice = f"New link for {membership.user.email}; earlier links no longer work:"
    return _members_page(request, MemberAddForm(), notice=notice, invitation_path=path)


@workspace_view(change=Role.OWNER)
@require_POST
def member_update(request, membership_id):
    membership = get_in_workspace(
        Membership.objects.select_related("user"), request.workspace, pk=membership_id
    )
    form = MemberRoleForm(request.POST)
    error = None
    if form.is_valid():
        try:
            membership = workspaces.change_member_role(
                membership, form.cleaned_data["role"], request.user
            )
        except Refusal as refusal:
            error = refusal.message
    else:
        error = "Choose a role."
    if not request.htmx:
        return redirect("segapp:member-list", workspace_slug=request.workspace.slug)
    return render(request, "segapp/_member_row.html", {"m": membership, "error": error})


@workspace_view(change=Role.OWNER)
@require_POST
def member_delete(request, membership_id):
    membership = get_in_workspace(
        Membership.objects.select_related("user"), request.workspace, pk=membership_id
    )
    try:
        workspaces.remove_member(membership, request.user)
    except Refusal as refusal:
        if request.htmx:
            return render(
                request, "segapp/_member_row.html", {"m": membership, "error": refusal.message}
            )
    if request.htmx:
        return HttpResponse("")
    return redirect("segapp:member-list", workspace_slug=request.workspace.slug)


@workspace_view()
def system_status(request):
    """What this installation runs on, and whether a worker answers."""
    ping = request.workspace.worker_pings.first()
    context = {
        "ping": ping,
        "sweeps": Sweep.objects.order_by("name"),
        "late": {name for name, _ in sweeps.late()},
        "workers": sweeps.live_workers(),
        "database": connection.vendor,
        "broker": settings.CELERY_BROKER_URL.split("://", 1)[0],
        "embedded": settings.EMBEDDED,
    }
    template = "segapp/_worker_ping.html" if request.htmx else "segapp/system.html"
    response = render(request, template, context)
    if request.htmx and ping and ping.handled_at:
        response.status_code = 286  # htmx: the answer is in, stop polling
    return response


@workspace_view()
@require_POST
def worker_ping(request):
    """Sends a task through the broker; the system page polls until a worker has answered."""
    ping = WorkerPing.objects.create(workspace=request.workspace, requested_by_pid=os.getpid())
    transaction.on_commit(lambda: answer_ping.delay(ping.pk))
    if request.htmx:
        return render(request, "segapp/_worker_ping.html", {"ping": ping})
    return redirect("segapp:system-status", workspace_slug=request.workspace.slug)


@workspace_view()
@require_GET
def sweeps_banner(request):
    """A warning for owners when retries and lost-task recovery have stopped (no worker sweeps);
    loaded after the page, so no page pays for it."""
    stopped = sweeps.late() if request.membership.role == Role.OWNER else []
    return render(request, "segapp/_sweeps_banner.html", {"stopped": stopped})
