"""The Privacy section's pages: each view module lists its own routes."""

from privacy.views import controls, portal, regulations

app_name = "privacy"

urlpatterns = [*portal.urls, *controls.urls, *regulations.urls]
