from django.urls import path  # noqa: F401

app_name = "privacy"

P = "w/<slug:workspace_slug>/privacy/"

urlpatterns = []
