"""Destination filters in the console: the list on the instance page (enable, reorder, delete)
and the add/edit page. The preview runs in ``delivery.views`` (the FQL evaluator lives there)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from connections import filters
from connections.forms import FilterForm
from connections.models import DestinationFilter
from connections.views.instances import filter_list_context, instance_in_workspace
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import add_refusal
from segapp.refusal import Refusal

SAMPLE_EVENT = """{
  "type": "track",
  "event": "Order Completed",
  "userId": "user-1",
  "properties": {"total": 120, "currency": "USD", "coupon": "SPRING"},
  "context": {"ip": "203.0.113.9", "library": {"name": "analytics.js", "version": "2.11.1"}}
}"""


def filter_in_workspace(request, instance_id, filter_id) -> DestinationFilter:
    queryset = DestinationFilter.objects.select_related("instance__source", "instance__metadata")
    return get_in_workspace(queryset, request.workspace, pk=filter_id, instance_id=instance_id)


def _back_to_list(request, instance, done=None):
    """The filter list (HTMX), or the instance page; ``done`` says what the change was."""
    if request.htmx:
        context = {"instance": instance, "filters_notice": done, **filter_list_context(instance)}
        return render(request, "connections/_filters.html", context)
    if done:
        messages.success(request, done)
    return redirect("connections:instance-detail", request.workspace.slug, instance.pk)


@workspace_view()
@require_http_methods(["GET", "POST"])
def filter_edit(request, instance_id, filter_id=None):
    instance = instance_in_workspace(request, instance_id)
    item = filter_in_workspace(request, instance.pk, filter_id) if filter_id else None
    initial = FilterForm.initial_from(item) if item else {"condition": "all"}
    form = FilterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = {
            "title": form.cleaned_data["title"],
            "description": form.cleaned_data["description"],
            "condition": form.cleaned_data["condition"],
            "actions": form.actions(),
            "enabled": form.cleaned_data["enabled"],
        }
        try:
            if item is None:
                filters.create_filter(instance, request.user, **values)
            else:
                filters.update_filter(item, request.user, **values)
        except Refusal as refusal:
            add_refusal(form, refusal if refusal.field != "if" else _on_condition(refusal))
        else:
            return redirect("connections:instance-detail", request.workspace.slug, instance.pk)
    context = {
        "instance": instance,
        "source": instance.source,
        "item": item,
        "form": form,
        "sample_event": request.POST.get("sample_event") or SAMPLE_EVENT,
    }
    return render(request, "connections/filter_edit.html", context)


def _on_condition(refusal: Refusal) -> Refusal:
    return Refusal(refusal.message, rule=refusal.rule, field="condition")


@workspace_view()
@require_POST
def filter_toggle(request, instance_id, filter_id):
    item = filter_in_workspace(request, instance_id, filter_id)
    filters.update_filter(item, request.user, enabled=request.POST.get("enabled") == "true")
    return _back_to_list(request, item.instance)


@workspace_view()
@require_POST
def filter_move(request, instance_id, filter_id):
    item = filter_in_workspace(request, instance_id, filter_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    filters.move_filter(item, request.user, offset)
    return _back_to_list(request, item.instance)


@workspace_view()
@require_POST
def filter_delete(request, instance_id, filter_id):
    item = filter_in_workspace(request, instance_id, filter_id)
    instance, title = item.instance, item.title
    filters.delete_filter(item, request.user)
    return _back_to_list(request, instance, f"Deleted the filter “{title}”.")
