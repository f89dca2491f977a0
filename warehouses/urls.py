from django.urls import path

from warehouses.views import selective_sync
from warehouses.views import warehouses as views

app_name = "warehouses"

W = "w/<slug:workspace_slug>/warehouses/"
WAREHOUSE = W + "<str:warehouse_id>/"
CONNECTED = WAREHOUSE + "sources/<str:source_id>/"

urlpatterns = [
    path(W, views.warehouse_list, name="list"),
    path(W + "new/<slug:entry_slug>/", views.warehouse_create, name="create"),
    path(WAREHOUSE, views.warehouse_detail, name="detail"),
    path(WAREHOUSE + "sync/", views.warehouse_sync, name="sync"),
    path(WAREHOUSE + "toggle/", views.warehouse_toggle, name="toggle"),
    path(WAREHOUSE + "settings/", views.warehouse_settings, name="settings"),
    path(WAREHOUSE + "schedule/", views.warehouse_schedule, name="schedule"),
    path(WAREHOUSE + "delete/", views.warehouse_delete, name="delete"),
    path(WAREHOUSE + "sources/", views.source_connect, name="source-connect"),
    path(CONNECTED + "disconnect/", views.source_disconnect, name="source-disconnect"),
    path(CONNECTED + "selective-sync/", selective_sync.selective_sync, name="selective-sync"),
]
