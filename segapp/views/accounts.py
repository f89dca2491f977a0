"""Sign in, sign out, choosing a password from an invitation link, and the landing redirect."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from segapp import invitations
from segapp.forms import SignInForm
from segapp.refusal import Refusal


class SignInView(auth_views.LoginView):
    template_name = "segapp/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


class SignOutView(auth_views.LogoutView):
    pass


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = invitations.usable_invitation(token)
    if invitation is None:
        return render(request, "segapp/password_set.html", {"validlink": False}, status=404)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.accept_invitation(token, form.cleaned_data["new_password1"])
        except Refusal:
            return render(request, "segapp/password_set.html", {"validlink": False}, status=404)
        messages.success(request, "Password chosen. Sign in with it.")
        return redirect("segapp:login")
    context = {"validlink": True, "form": form, "email": invitation.user.email}
    return render(request, "segapp/password_set.html", context)


@login_required
def home(request):
    """Back to the workspace used last, else the first one, else create one."""
    memberships = request.user.memberships.select_related("workspace").order_by("workspace__name")
    last_id = request.session.get("workspace_id")
    chosen = (
        next((m for m in memberships if m.workspace_id == last_id), None) or memberships.first()
    )
    if chosen is None:
        return redirect("segapp:workspace-create")
    return redirect("segapp:workspace-overview", workspace_slug=chosen.workspace.slug)
