"""Source transformations in the console: the source's list with an add form, edit, delete."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from connections import transformations
from connections.forms import TransformationForm
from connections.models import Transformation
from connections.views.sources import source_in_workspace
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import add_refusal
from segapp.refusal import Refusal


def _save(request, form, source, item=None) -> bool:
    if not form.is_valid():
        return False
    try:
        if item is None:
            transformations.create_transformation(source, request.user, form.cleaned_data)
        else:
            transformations.update_transformation(item, request.user, form.cleaned_data)
    except Refusal as refusal:
        add_refusal(form, refusal)
        return False
    return True


@workspace_view()
@require_http_methods(["GET", "POST"])
def transformation_list(request, source_id):
    source = source_in_workspace(request, source_id)
    form = TransformationForm(request.POST or None)
    if request.method == "POST" and _save(request, form, source):
        return redirect("connections:transformations", request.workspace.slug, source.pk)
    context = {"source": source, "items": source.transformations.all(), "form": form}
    return render(request, "connections/transformations.html", context)


def _item(request, source_id, transformation_id) -> Transformation:
    return get_in_workspace(
        Transformation.objects.select_related("source"),
        request.workspace,
        pk=transformation_id,
        source_id=source_id,
    )


@workspace_view()
@require_http_methods(["GET", "POST"])
def transformation_edit(request, source_id, transformation_id):
    item = _item(request, source_id, transformation_id)
    form = TransformationForm(request.POST or None, initial=TransformationForm.initial_from(item))
    if request.method == "POST" and _save(request, form, item.source, item):
        return redirect("connections:transformations", request.workspace.slug, source_id)
    context = {"source": item.source, "item": item, "form": form}
    return render(request, "connections/transformation_edit.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def transformation_delete(request, source_id, transformation_id):
    """Asks first (GET), then deletes (POST)."""
    item = _item(request, source_id, transformation_id)
    if request.method == "GET":
        return render(request, "connections/transformation_delete.html", {"item": item})
    transformations.delete_transformation(item, request.user)
    messages.success(request, f"Deleted the transformation “{item.name}”.")
    return redirect("connections:transformations", request.workspace.slug, source_id)
