"""The audit trail page: every configuration change in the workspace, newest first."""

from django.shortcuts import render

from segapp import audit_trail
from segapp.access import workspace_view


@workspace_view()
def audit_trail_page(request):
    filters = audit_trail.Filters.from_query(request.GET)
    context = {"filters": filters, "page": audit_trail.page(request.workspace, filters)}
    if request.htmx and request.htmx.target == "audit-rows":
        return render(request, "segapp/_audit_rows.html", context)
    context["choices"] = audit_trail.choices(request.workspace, filters)
    return render(request, "segapp/audit_trail.html", context)
