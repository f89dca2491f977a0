from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("catalog/logos/<slug:slug>.svg", views.logo, name="logo"),
    path("w/<slug:workspace_slug>/catalog/<str:tab>/", views.catalog_list, name="catalog"),
    path(
        "w/<slug:workspace_slug>/catalog/<str:tab>/<slug:slug>/", views.catalog_entry, name="entry"
    ),
]
