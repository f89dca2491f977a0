"""The Connections home, the workspace's landing page: each source beside the destination
instances it sends to, with their state and delivery health."""

from django.shortcuts import render

from connections.views.sources import sources_with_instances
from segapp.access import workspace_view


@workspace_view()
def connections_home(request):
    rows = sources_with_instances(request.workspace)
    context = {"sources": rows, "instances": [i for s in rows for i in s.instances.all()]}
    return render(request, "connections/home.html", context)
