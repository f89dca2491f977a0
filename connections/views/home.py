"""The Connections home, the workspace's landing page: each source beside the destination
instances it sends to, with their state and delivery health."""

from django.shortcuts import render

from connections.views.sources import pipeline_context
from segapp.access import workspace_view


@workspace_view()
def connections_home(request):
    return render(request, "connections/home.html", pipeline_context(request))
