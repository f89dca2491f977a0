"""An instance's settings history: every version with its diff, and one-click restore."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from connections import instances, settings_history
from connections.models import SettingsVersion
from connections.views.instances import instance_in_workspace
from segapp.access import get_in_workspace, workspace_view
from segapp.refusal import Refusal


@workspace_view()
def history(request, instance_id):
    instance = instance_in_workspace(request, instance_id)
    older = request.GET.get("older", "")
    diffs, more = settings_history.history(instance, int(older) if older.isdigit() else None)
    context = {"instance": instance, "source": instance.source, "diffs": diffs, "more": more}
    return render(request, "connections/settings_history.html", context)


@workspace_view()
@require_POST
def restore(request, instance_id, version_id):
    instance = instance_in_workspace(request, instance_id)
    version = get_in_workspace(
        SettingsVersion.objects.filter(instance=instance), request.workspace, pk=version_id
    )
    try:
        instances.restore_settings(instance, version, request.user)
    except Refusal as refusal:
        messages.error(request, f"Version {version.number} cannot be restored: {refusal.message}")
        target = reverse(
            "connections:instance-settings-history", args=[request.workspace.slug, instance.pk]
        )
    else:
        messages.success(request, f"Restored the settings of version {version.number}.")
        target = (
            reverse("connections:instance-detail", args=[request.workspace.slug, instance.pk])
            + "#instance-settings"
        )
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
