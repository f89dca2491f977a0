"""The Public API tokens page: owners create (shown once) and revoke tokens."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from segapp import tokens
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import TokenCreateForm, add_refusal
from segapp.models import ApiToken, Role
from segapp.refusal import Refusal


def _render(request, form, new_token=None):
    context = {
        "form": form,
        "tokens": request.workspace.api_tokens.select_related("created_by"),
        "new_token": new_token,
    }
    template = "segapp/_tokens.html" if request.htmx else "segapp/tokens.html"
    return render(request, template, context)


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
def token_list(request):
    form = TokenCreateForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = tokens.create_token(
                request.workspace, actor=request.user, **form.cleaned_data
            )
            form = TokenCreateForm()
        except Refusal as refusal:
            add_refusal(form, refusal)
    return _render(request, form, new_token)


@workspace_view(change=Role.OWNER)
@require_POST
def token_revoke(request, token_id):
    token = get_in_workspace(ApiToken.objects, request.workspace, pk=token_id)
    tokens.revoke_token(token, request.user)
    if request.htmx:
        return _render(request, TokenCreateForm())
    return redirect("segapp:token-list", workspace_slug=request.workspace.slug)
