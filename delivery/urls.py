from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from delivery import replay_views, tool_views, views
from delivery.ingest import http, settings_endpoint

app_name = "delivery"
INSTANCE = "w/<slug:workspace_slug>/destinations/<str:instance_id>/"


@csrf_exempt
def tracking_endpoint(request, endpoint):
    """Reached only if TrackingApiMiddleware is not installed; it normally answers first."""
    return http.handle(request, endpoint)


@csrf_exempt
def device_settings(request, write_key):
    """Reached only if TrackingApiMiddleware is not installed; it normally answers first."""
    return settings_endpoint.handle(request, write_key)


urlpatterns = [
    *(
        path(p.lstrip("/"), tracking_endpoint, {"endpoint": e}, name=f"tracking-{e}")
        for p, e in http.PATHS.items()
    ),
    path("v1/projects/<str:write_key>/settings", device_settings, name="device-settings"),
    *(
        path(f"{prefix}<path:path>", settings_endpoint.library_redirect, name=f"library-{n}")
        for n, prefix in enumerate(settings_endpoint.LIBRARY_PREFIXES)
    ),
    path(
        "w/<slug:workspace_slug>/sources/<str:source_id>/debugger/",
        views.source_debugger,
        name="debugger",
    ),
    path(
        "w/<slug:workspace_slug>/destinations/<str:instance_id>/filter-preview/",
        views.filter_preview,
        name="filter-preview",
    ),
    path(INSTANCE + "delivery/", views.instance_delivery, name="event-delivery"),
    path(INSTANCE + "delivery/redeliver/", views.redeliver_all, name="redeliver-all"),
    path(
        INSTANCE + "delivery/redeliver/<int:job_id>/",
        views.redeliver_one,
        name="redeliver-one",
    ),
    path(INSTANCE + "delivery/progress/", views.redelivery_progress, name="redelivery-progress"),
    path(INSTANCE + "replay/", replay_views.replay, name="replay"),
    path(INSTANCE + "replay/cancel/", replay_views.replay_cancel, name="replay-cancel"),
    path(
        "w/<slug:workspace_slug>/sources/<str:source_id>/overview/",
        views.source_overview,
        name="delivery-overview",
    ),
    path(
        "w/<slug:workspace_slug>/destinations/<str:instance_id>/event-tester/",
        tool_views.event_tester,
        name="event-tester",
    ),
    path(
        "w/<slug:workspace_slug>/sources/<str:source_id>/routing-preview/",
        tool_views.routing_preview,
        name="routing-preview",
    ),
]
