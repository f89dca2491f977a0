"""Sign in, sign out, choosing a password from a set-password link, and the landing redirect."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse_lazy


class SignInView(auth_views.LoginView):
    template_name = "segapp/sign_in.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class PasswordSetView(auth_views.PasswordResetConfirmView):
    template_name = "segapp/password_set.html"
    success_url = reverse_lazy("segapp:login")
    post_reset_login = False


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
