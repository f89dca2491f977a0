"""Privacy → Data controls and Encryption, and the Privacy panel of a destination's page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from connections.models import DestinationInstance
from privacy import controls, encryption
from privacy.models import (
    Classification,
    ControlAction,
    EncryptionKey,
    Field,
    InstancePrivacy,
    YellowProtection,
)
from segapp.access import get_in_workspace, workspace_view
from segapp.models import Role
from segapp.refusal import Refusal

P = "w/<slug:workspace_slug>/privacy/"
EVERY_OTHER = ""


def _categories(workspace) -> list[str]:
    """The catalog categories of the workspace's destinations, the ones worth a control."""
    rows = DestinationInstance.objects.filter(workspace=workspace).values_list(
        "metadata__categories", flat=True
    )
    return sorted({categories[0] for categories in rows.distinct() if categories})


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
def controls_page(request):
    workspace = request.workspace
    categories = _categories(workspace)
    if request.method == "POST":
        try:
            for index, category in enumerate([EVERY_OTHER, *categories]):
                for classification in controls.CONTROLLED:
                    action = request.POST.get(f"{classification}-{index}")
                    if action is not None:
                        controls.set_control(
                            workspace, category, classification, action, request.user
                        )
        except Refusal as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, "Data controls saved: they act from the next batch on.")
        return redirect("privacy:controls", workspace.slug)
    current = controls.workspace_controls(workspace.pk)
    rows = []
    for index, category in enumerate([EVERY_OTHER, *categories]):
        rows.append(
            {
                "index": index,
                "category": category,
                # (classification, its own action or FOLLOW, the action in effect)
                "actions": [
                    (
                        classification,
                        current.get((category, classification), controls.FOLLOW),
                        controls.control_for(current, category, classification),
                    )
                    for classification in controls.CONTROLLED
                ],
            }
        )
    counts = {
        c: Field.objects.filter(workspace=workspace, classification=c).count()
        for c in controls.CONTROLLED
    }
    chosen = (
        InstancePrivacy.objects.filter(instance__workspace=workspace)
        .exclude(red_allowed=False, yellow_protection=YellowProtection.NONE)
        .select_related("instance__source", "instance__metadata")
        .order_by("instance__source__name", "instance__name")
    )
    return render(
        request,
        "privacy/controls.html",
        {
            "privacy_tab": "controls",
            "rows": rows,
            "action_choices": ControlAction.choices,
            "counts": counts,
            "chosen": chosen,
        },
    )


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
def encryption_page(request):
    workspace = request.workspace
    if request.method == "POST":
        try:
            controls.set_key(workspace, request.POST.get("public_key", ""), request.user)
        except Refusal as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request, "Key saved: Yellow fields are encrypted under it from now on."
            )
        return redirect("privacy:encryption", workspace.slug)
    encrypting = (
        InstancePrivacy.objects.filter(
            instance__workspace=workspace, yellow_protection=YellowProtection.ENCRYPT
        )
        .select_related("instance__source", "instance__metadata")
        .order_by("instance__source__name", "instance__name")
    )
    return render(
        request,
        "privacy/encryption.html",
        {
            "privacy_tab": "encryption",
            "key": EncryptionKey.objects.filter(workspace=workspace).first(),
            "encrypting": encrypting,
            "min_bits": encryption.MIN_KEY_BITS,
        },
    )


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
def instance_panel(request, instance_id):
    """The Privacy card of a destination's page (loaded into it with HTMX)."""
    queryset = DestinationInstance.objects.select_related("source__workspace", "metadata")
    instance = get_in_workspace(queryset, request.workspace, pk=instance_id)
    error = None
    if request.method == "POST":
        try:
            controls.set_instance_privacy(
                instance,
                request.POST.get("red_allowed") == "on",
                request.POST.get("yellow", YellowProtection.NONE),
                request.user,
            )
        except Refusal as refused:
            error = refused.message
    chosen = controls.instance_privacy(instance)
    workspace = request.workspace
    category = instance.metadata.primary_category
    current = controls.workspace_controls(workspace.pk)
    return render(
        request,
        "privacy/_instance_panel.html",
        {
            "instance": instance,
            "chosen": chosen,
            "error": error,
            "saved": request.method == "POST" and error is None,
            "category": category,
            "red_control": controls.control_for(current, category, Classification.RED),
            "yellow_control": controls.control_for(current, category, Classification.YELLOW),
            "protections": YellowProtection.choices,
            "can_encrypt": controls.can_encrypt(workspace),
            "panel_url": reverse("privacy:instance", args=[workspace.slug, instance.pk]),
        },
    )


urls = [
    path(P + "controls/", controls_page, name="controls"),
    path(P + "encryption/", encryption_page, name="encryption"),
    path(P + "destinations/<str:instance_id>/", instance_panel, name="instance"),
]
