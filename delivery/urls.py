from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from delivery import views
from delivery.ingest import http, settings_endpoint

app_name = "delivery"


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
    path(
        "w/<slug:workspace_slug>/sources/<str:source_id>/debugger/",
        views.source_debugger,
        name="debugger",
    ),
]
