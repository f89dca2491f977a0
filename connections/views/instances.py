"""Destination instance pages: the add flows (Configure → Confirm Source → Connection Settings),
the instance page (enable, rename, mode, settings, copy settings) and delete."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from catalog.models import ConnectionMode, DestinationMetadata
from catalog.views import catalog_results_context, render_catalog
from connections import instances, rules
from connections.filters import MAX_FILTERS_PER_INSTANCE
from connections.forms import ConnectionSettingsForm, InstanceNameForm
from connections.models import DestinationInstance
from connections.settings_schema import SettingsInvalid
from connections.views.sources import LISTED_WITHOUT, source_in_workspace
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import add_refusal
from segapp.navigation import safe_next, with_next
from segapp.ordering import natural_sorted
from segapp.paging import page_of
from segapp.refusal import Refusal

# Instances per page on the destinations list.
INSTANCES_PER_PAGE = 100


def filter_list_context(instance) -> dict:
    """What ``_filters.html`` shows, on the instance page and as an HTMX fragment."""
    return {
        "filters": list(instance.filters.all()),
        "filter_limit": MAX_FILTERS_PER_INSTANCE,
    }


def instance_in_workspace(request, instance_id) -> DestinationInstance:
    queryset = DestinationInstance.objects.select_related("source__metadata", "metadata")
    return get_in_workspace(queryset, request.workspace, pk=instance_id)


def copy_candidates(workspace, metadata, exclude=None):
    """Other instances of the same destination in the workspace, for Copy Settings."""
    found = DestinationInstance.objects.filter(
        workspace=workspace, metadata=metadata
    ).select_related("source")
    return found.exclude(pk=exclude.pk) if exclude else found


def _copy_from(request, metadata, exclude=None) -> DestinationInstance | None:
    copy_id = request.POST.get("copy_from")
    if not copy_id:
        return None
    found = copy_candidates(request.workspace, metadata, exclude).filter(pk=copy_id).first()
    if found is None:
        raise Http404("No such instance to copy from")
    return found


@workspace_view()
def instance_list(request):
    rows = request.workspace.destination_instances.defer(*LISTED_WITHOUT).prefetch_related(
        "source", "metadata"
    )
    page = page_of(natural_sorted(rows), request, INSTANCES_PER_PAGE)
    context = {"instances": page.object_list, "page": page}
    return render(request, "connections/destinations.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def confirm_source(request, slug):
    """Configure → select a source. Sources that may not take another instance are shown
    disabled, with the rule's reason."""
    metadata = get_object_or_404(DestinationMetadata, slug=slug)
    all_sources = natural_sorted(request.workspace.sources.select_related("metadata"))
    refusals = instances.addability(request.workspace, metadata, all_sources)
    entry_url = reverse("catalog:entry", args=[request.workspace.slug, "destinations", slug])
    back_url = safe_next(request, entry_url)
    here = with_next(request.path, back_url if back_url != entry_url else None)
    if request.method == "POST":
        source_id = request.POST.get("source", "")
        if source_id in refusals and refusals[source_id] is None:
            create_url = reverse(
                "connections:instance-create", args=[request.workspace.slug, slug, source_id]
            )
            return redirect(with_next(create_url, here))
    choices = [(source, refusals[source.pk]) for source in all_sources]
    add_source_url = with_next(
        reverse("catalog:catalog", args=[request.workspace.slug, "sources"]), here
    )
    context = {
        "entry": metadata,
        "choices": choices,
        "can_choose": any(refusal is None for _, refusal in choices),
        "error": request.method == "POST",
        "back_url": back_url,
        "next": back_url if back_url != entry_url else "",
        "add_source_url": add_source_url,
    }
    return render(request, "connections/confirm_source.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
def instance_create(request, slug, source_id):
    """Name the instance and fill in its Connection Settings (or copy them), then Save."""
    metadata = get_object_or_404(DestinationMetadata, slug=slug)
    source = source_in_workspace(request, source_id)
    refusal = instances.refuse_new_instance(source, metadata)
    candidates = copy_candidates(request.workspace, metadata)
    source_url = reverse("connections:source-detail", args=[request.workspace.slug, source.pk])
    back_url = safe_next(request, source_url)
    name_form = InstanceNameForm(
        request.POST or None,
        initial={"name": rules.suggest_name(metadata, instances.taken_names(source))},
    )
    copy_from = _copy_from(request, metadata) if request.method == "POST" else None
    stored = copy_from.secrets.keys() if copy_from else ()
    if request.POST.get("action") == "copy" and copy_from:
        # Copy Settings From Other Destination: plain values fill the form; secrets stay on the
        # server and are taken from ``copy_from`` on Save unless the user types new ones.
        initial = ConnectionSettingsForm.initial_from(metadata, copy_from.masked_settings())
        settings_form = ConnectionSettingsForm(metadata, initial=initial, stored_secrets=stored)
        name_form = InstanceNameForm(initial={"name": request.POST.get("name", "")})
    else:
        initial = ConnectionSettingsForm.initial_from(metadata, {})
        settings_form = ConnectionSettingsForm(
            metadata, request.POST or None, initial=initial, stored_secrets=stored
        )
        if (
            request.method == "POST"
            and refusal is None
            and name_form.is_valid()
            and settings_form.is_valid()
        ):
            try:
                instance = instances.create_instance(
                    source,
                    metadata,
                    request.user,
                    name=name_form.cleaned_data["name"],
                    settings=settings_form.to_settings(),
                    copy_secrets_from=copy_from,
                )
            except SettingsInvalid as invalid:
                for field, message in invalid.errors.items():
                    settings_form.add_error(
                        field if field in settings_form.fields else None, message
                    )
            except Refusal as refused:
                add_refusal(name_form, refused)
            else:
                return redirect("connections:instance-detail", request.workspace.slug, instance.pk)
    context = {
        "entry": metadata,
        "source": source,
        "refusal": refusal,
        "name_form": name_form,
        "settings_form": settings_form,
        "candidates": candidates,
        "copy_from": copy_from,
        "back_url": back_url,
        "next": back_url if back_url != source_url else "",
    }
    return render(request, "connections/instance_create.html", context)


def _instance_context(request, instance, **extra):
    modes = [
        (mode, ConnectionMode(mode).label, instances.refuse_mode(instance, mode))
        for mode in (ConnectionMode.CLOUD, ConnectionMode.DEVICE)
        if mode in instance.metadata.connection_modes
    ]
    context = {
        "instance": instance,
        "entry": instance.metadata,
        "source": instance.source,
        "modes": modes,
        "name_form": InstanceNameForm(initial={"name": instance.name}),
        "settings_form": ConnectionSettingsForm(
            instance.metadata,
            initial=ConnectionSettingsForm.initial_from(
                instance.metadata, instance.masked_settings()
            ),
            stored_secrets=instance.secrets.keys(),
        ),
        "candidates": copy_candidates(request.workspace, instance.metadata, exclude=instance),
        **filter_list_context(instance),
        "bundle_warning": instances.bundle_warning(instance),
    }
    return {**context, **extra}


def _page_or_fragment(request, instance, fragment, changed=True, **extra):
    """The whole instance page, or (for HTMX) one fragment, with an ``instanceChanged`` event when
    something changed (a refused change leaves the other fragments as they are)."""
    context = _instance_context(request, instance, **extra)
    if request.htmx:
        response = render(request, f"connections/{fragment}", context)
        if changed:
            trigger_client_event(response, "instanceChanged")
        return response
    return render(request, "connections/instance.html", context)


@workspace_view()
def instance_detail(request, instance_id):
    instance = instance_in_workspace(request, instance_id)
    if request.htmx and request.htmx.target == "instance-summary":
        # Refreshed on ``instanceChanged`` after a change made by another fragment.
        context = {"instance": instance, "entry": instance.metadata, "source": instance.source}
        return render(request, "connections/_instance_summary.html", context)
    return render(request, "connections/instance.html", _instance_context(request, instance))


@workspace_view()
@require_POST
def instance_toggle(request, instance_id):
    instance = instance_in_workspace(request, instance_id)
    try:
        instance = instances.set_enabled(
            instance, request.POST.get("enabled") == "true", request.user
        )
    except Refusal as refusal:
        return _page_or_fragment(
            request, instance, "_instance_toggle.html", False, toggle_error=refusal.message
        )
    if not request.htmx:
        return redirect("connections:instance-detail", request.workspace.slug, instance.pk)
    return _page_or_fragment(request, instance, "_instance_toggle.html")


@workspace_view()
@require_POST
def instance_rename(request, instance_id):
    instance = instance_in_workspace(request, instance_id)
    form = InstanceNameForm(request.POST)
    if form.is_valid():
        try:
            instance = instances.rename_instance(instance, form.cleaned_data["name"], request.user)
        except Refusal as refusal:
            add_refusal(form, refusal)
    changed = form.is_valid() and not form.errors
    return _page_or_fragment(request, instance, "_instance_name.html", changed, name_form=form)


@workspace_view()
@require_POST
def instance_mode(request, instance_id):
    instance = instance_in_workspace(request, instance_id)
    error = None
    try:
        instance = instances.set_mode(instance, request.POST.get("mode", ""), request.user)
    except Refusal as refusal:
        error = refusal.message
    return _page_or_fragment(
        request, instance, "_instance_mode.html", error is None, mode_error=error
    )


@workspace_view()
@require_POST
def instance_settings(request, instance_id):
    """Save Connection Settings, or Copy Settings From Other Destination (``action=copy``)."""
    instance = instance_in_workspace(request, instance_id)
    copy_from = _copy_from(request, instance.metadata, exclude=instance)
    extra = {}
    if request.POST.get("action") == "copy" and copy_from:
        instance = instances.copy_settings(instance, copy_from, request.user)
        extra["settings_saved"] = (
            f"Copied the settings of {copy_from.name} ({copy_from.source.name})."
        )
    else:
        form = ConnectionSettingsForm(
            instance.metadata, request.POST, stored_secrets=instance.secrets.keys()
        )
        if form.is_valid():
            try:
                instance = instances.update_settings(instance, form.to_settings(), request.user)
                extra["settings_saved"] = "Settings saved."
            except SettingsInvalid as invalid:
                for field, message in invalid.errors.items():
                    form.add_error(field if field in form.fields else None, message)
        if form.errors:
            extra["settings_form"] = form
    changed = "settings_saved" in extra
    return _page_or_fragment(request, instance, "_instance_settings.html", changed, **extra)


@workspace_view()
@require_http_methods(["GET", "POST"])
def instance_delete(request, instance_id):
    instance = instance_in_workspace(request, instance_id)
    if request.method == "POST":
        source, name = instance.source, instance.name
        instances.delete_instance(instance, request.user)
        messages.success(request, f"Deleted the destination “{name}”.")
        return redirect("connections:source-detail", request.workspace.slug, source.pk)
    return render(request, "connections/instance_delete.html", {"instance": instance})


@workspace_view()
def source_add_destination(request, source_id, slug=None):
    """Add Destination from a source: search the destination catalog, open an entry, Configure
    goes straight to Connection Settings for this source."""
    source = source_in_workspace(request, source_id)
    entry_route = ("connections:source-add-destination-entry", source.pk)
    if slug is None:
        context = {
            **catalog_results_context(request, "destinations", entry_route),
            "source": source,
        }
        return render_catalog(request, "connections/add_destination.html", context)
    entry = get_object_or_404(DestinationMetadata, slug=slug)
    configure_url = reverse(
        "connections:instance-create", args=[request.workspace.slug, entry.slug, source.pk]
    )
    context = {
        "tab": "destinations",
        "entry": entry,
        "source": source,
        # The same rule as Confirm Source: Configure is not offered where it would be refused.
        "refusal": instances.refuse_new_instance(source, entry),
        "configure_url": with_next(configure_url, request.path),
        "back_url": reverse(
            "connections:source-add-destination", args=[request.workspace.slug, source.pk]
        ),
    }
    return render(request, "catalog/destination_entry.html", context)
