from django.contrib import admin
from django.urls import include, path

from connections.views.home import connections_home
from segapp.views import accounts, assets, audit, tokens, workspace

workspace_patterns = [
    path("", connections_home, name="workspace-overview"),
    path("settings/", workspace.settings_general, name="settings-general"),
    path("settings/members/", workspace.member_list, name="member-list"),
    path("settings/members/<int:membership_id>/", workspace.member_update, name="member-update"),
    path(
        "settings/members/<int:membership_id>/invitation/",
        workspace.member_invite,
        name="member-invite",
    ),
    path(
        "settings/members/<int:membership_id>/delete/",
        workspace.member_delete,
        name="member-delete",
    ),
    path("settings/tokens/", tokens.token_list, name="token-list"),
    path("settings/tokens/<str:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("audit/", audit.audit_trail_page, name="audit-trail"),
    path("settings/system/", workspace.system_status, name="system-status"),
    path("settings/system/ping/", workspace.worker_ping, name="worker-ping"),
    path("settings/system/sweeps/", workspace.sweeps_banner, name="sweeps-banner"),
]

segapp_patterns = [
    path("", accounts.home, name="home"),
    path("signin/", accounts.SignInView.as_view(), name="login"),
    path("signout/", accounts.SignOutView.as_view(), name="logout"),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation-accept"),
    path("workspaces/new/", workspace.workspace_create, name="workspace-create"),
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
]

urlpatterns = [
    path("favicon.ico", assets.favicon, name="favicon"),
    path("", include((segapp_patterns, "segapp"))),
    path("", include("catalog.urls")),
    path("", include("connections.urls")),
    path("", include("delivery.urls")),
    path("", include("privacy.urls")),
    path("", include("warehouses.urls")),
    path("api/", include("segapp.api.urls")),
    path("admin/", admin.site.urls),
]
