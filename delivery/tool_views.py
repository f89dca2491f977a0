"""Console pages that run an event through the delivery path: the Event Tester (one instance, sends
for real) and the routing preview (every instance of a source, sends nothing).

One URL each: GET shows the form with a sample event, POST runs it. With HTMX, a POST returns only
the results fragment (200 even for an invalid event: htmx 2 does not swap 4xx). Both runs are
POSTs, so read-only members can open the pages but not run them, like every other action.
"""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from connections.models import DestinationInstance, Source
from delivery import payload_reads, tools
from delivery.ingest.messages import TYPES
from segapp.access import get_in_workspace, workspace_view
from segapp.client_ip import client_ip


def _run(request, context: dict, run) -> None:
    """Parses the posted event into ``context``, then calls ``run(message)`` for the results."""
    text = context["event_text"] = request.POST.get("event", "")
    try:
        message = tools.parse_event(text, client_ip(request))
    except tools.EventInvalid as invalid:
        context["error"] = str(invalid)
    else:
        context["kind"] = message["type"]
        context["run"] = run(message)


@workspace_view()
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def event_tester(request, instance_id):
    """Send a test event to one instance and see each request, each answer and the verdict."""
    queryset = DestinationInstance.objects.select_related("source", "metadata")
    instance = get_in_workspace(queryset, request.workspace, pk=instance_id)
    kind = request.GET.get("type", "track")
    context = {
        "instance": instance,
        "source": instance.source,
        "entry": instance.metadata,
        "types": TYPES,
        "kind": kind if kind in TYPES else "track",
        "refusal": tools.refuse_test(instance),
    }
    if request.method == "POST":
        if context["refusal"]:
            context["error"] = context["refusal"]
            context["event_text"] = request.POST.get("event", "")
        else:
            _run(request, context, lambda message: tools.send_test_event(instance.pk, message))
            payload_reads.record(request, "instance.event_tested", instance)
        if request.htmx:
            return render(request, "delivery/_tester_result.html", context)
    else:
        context["event_text"] = tools.sample_event(context["kind"])
        if request.htmx and request.htmx.target == "event-input":
            return render(request, "delivery/_event_input.html", context)
    return render(request, "delivery/event_tester.html", context)


@workspace_view()
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def routing_preview(request, source_id):
    """Paste an event, see what each instance of the source would receive, and why not."""
    source = get_in_workspace(Source.objects.all(), request.workspace, pk=source_id)
    context = {"source": source, "kind": "track"}
    if request.method == "POST":
        _run(request, context, lambda message: tools.preview_routing(source.pk, message))
        payload_reads.record(request, "source.routing_previewed", source)
        if request.htmx:
            return render(request, "delivery/_routing_preview.html", context)
    else:
        context["event_text"] = tools.sample_event("track")
    return render(request, "delivery/routing_preview.html", context)
