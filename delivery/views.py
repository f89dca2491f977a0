"""Console pages of the delivery app: the source debugger, the filter preview, Event Delivery
and Delivery Overview."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from connections.forms import FilterForm
from connections.models import DestinationInstance, Source
from delivery import debugger, deliveries, event_delivery, payload_reads, previews, tasks
from delivery.models import DeliveryJob, RedeliveryRun
from delivery.pretty import pretty
from segapp import jsondepth
from segapp.access import get_in_workspace, workspace_view
from segapp.refusal import Refusal


@workspace_view()
@require_safe
@vary_on_headers("HX-Request")
def source_debugger(request, source_id):
    """The latest events of a source, live or paused, searchable, one of them in full.

    One URL: the page; with HTMX, the rows (polled every 2s while live) or the event panel.
    """
    source = get_in_workspace(debugger.sources_with_newest(), request.workspace, pk=source_id)
    state = debugger.State.from_query(request.GET)
    target = request.htmx.target if request.htmx and not request.htmx.boosted else None
    if target == "event-detail":
        context = _event_context(source, state, request)
        return render(request, "delivery/_debugger_event.html", context)

    marker = debugger.newest_marker(source)
    if target == "debugger-rows" and source.enabled and state.since == marker:
        return HttpResponse(status=204)  # nothing new: htmx keeps the rows and polls again
    context = {
        "source": source,
        "state": state,
        "live": source.enabled and not state.paused,
        "marker": marker,
        "events": debugger.latest_events(source, state.q),
        "rejections": debugger.latest_rejections(source, state.q),
        "stream_limit": debugger.STREAM_LIMIT,
        "search_window": debugger.SEARCH_WINDOW,
    }
    if target == "debugger-rows":
        response = render(request, "delivery/_debugger_rows.html", context)
        if not source.enabled:
            response.status_code = 286  # htmx: stop polling, nothing more will arrive
        return response
    payload_reads.record(request, "source.debugger_viewed", source, search=state.q or None)
    context.update(_event_context(source, state, request))
    return render(request, "delivery/debugger.html", context)


def _event_context(source, state, request) -> dict:
    event = debugger.event_of(source, state.event)
    if event is not None:
        payload_reads.record(request, "source.event_viewed", source, messageId=event.message_id)
    return {
        "source": source,
        "state": state,
        "event": event,
        "fields": debugger.pretty_fields(event.message) if event else [],
    }


@workspace_view()
@require_POST
def filter_preview(request, instance_id):
    """The filter form's Preview: the form as typed, run against the sample event."""
    get_in_workspace(DestinationInstance.objects.all(), request.workspace, pk=instance_id)
    form = FilterForm(request.POST)
    context = {}
    try:
        payload = jsondepth.loads(request.POST.get("sample_event", ""))
        if not isinstance(payload, dict):
            raise ValueError
    except jsondepth.TooDeep:
        context["error"] = f"The sample event nests deeper than {jsondepth.MAX_DEPTH} levels."
    except ValueError:
        context["error"] = "The sample event must be a JSON object."
    else:
        if not form.is_valid():
            context["error"] = " ".join(m for ms in form.errors.values() for m in ms)
        else:
            try:
                preview = previews.preview_filter(
                    form.cleaned_data["condition"], form.actions(), payload
                )
            except Refusal as refusal:
                context["error"] = refusal.message
            else:
                context["preview"] = preview
                if preview.result is not None:
                    context["result_json"] = pretty(preview.result)
    return render(request, "delivery/_filter_preview.html", context)


def _instance(request, instance_id) -> DestinationInstance:
    queryset = DestinationInstance.objects.select_related("source", "metadata")
    return get_in_workspace(queryset, request.workspace, pk=instance_id)


@workspace_view()
@require_safe
def instance_delivery(request, instance_id):
    """Event Delivery: outcomes over a window, the trend, latency, errors, dead letters."""
    instance = _instance(request, instance_id)
    window = event_delivery.Window.from_query(request.GET.get("window"))
    context = {"instance": instance, "source": instance.source,
               **event_delivery.instance_page(instance, window)}  # fmt: skip
    payload_reads.record(request, "instance.samples_viewed", instance, window=window.key)
    return render(request, "delivery/event_delivery.html", context)


@workspace_view()
@require_POST
def redeliver_one(request, instance_id, job_id):
    instance = _instance(request, instance_id)
    # Another destination's job (another workspace's, say) looks absent; one of this destination
    # that is no longer dead-lettered (a second click) is left as it is.
    job = get_object_or_404(DeliveryJob.objects.only("pk"), pk=job_id, instance_id=instance.pk)
    deliveries.redeliver(job.pk, instance.pk)
    return redirect(reverse("delivery:event-delivery", args=[request.workspace.slug, instance.pk]))


@workspace_view()
@require_POST
def redeliver_all(request, instance_id):
    instance = _instance(request, instance_id)
    run = deliveries.start_redelivery(instance, request.user)
    tasks.queue_redelivery(run.pk)
    return redirect(reverse("delivery:event-delivery", args=[request.workspace.slug, instance.pk]))


@workspace_view()
@require_safe
def redelivery_progress(request, instance_id):
    """The progress of the latest re-deliver-all, polled by the page while it runs."""
    instance = _instance(request, instance_id)
    run = RedeliveryRun.objects.filter(instance_id=instance.pk).first()
    return render(request, "delivery/_redelivery.html", {"instance": instance, "run": run})


@workspace_view()
@require_safe
def source_overview(request, source_id):
    """Delivery Overview: a source's events from arrival to delivery, per instance."""
    source = get_in_workspace(
        Source.objects.select_related("metadata", "workspace"), request.workspace, pk=source_id
    )
    window = event_delivery.Window.from_query(request.GET.get("window"))
    instances = list(source.instances.select_related("metadata").order_by("name"))
    context = {"source": source, **event_delivery.source_overview(source, instances, window)}
    return render(request, "delivery/delivery_overview.html", context)
