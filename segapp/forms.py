from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from segapp import signin_throttle
from segapp.models import ApiToken, Plan, Role
from segapp.refusal import Refusal


def add_refusal(form: forms.Form, refusal: Refusal) -> None:
    """Shows a rule's refusal on the form field it concerns (or on the form)."""
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100)
    plan = forms.ChoiceField(choices=Plan.choices, initial=Plan.FREE)


class WorkspaceSettingsForm(WorkspaceForm):
    retention_days = forms.IntegerField(
        label="Event archive retention (days)",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["retention_days"].help_text = (
            "How long the archive keeps events for the debugger, Replay and warehouses: at most "
            f"{settings.ARCHIVE_MAX_RETENTION_DAYS} days; empty: this server's default, "
            f"{settings.ARCHIVE_RETENTION_DAYS} days."
        )


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenCreateForm(forms.Form):
    description = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=ApiToken.ROLES, initial=Role.MEMBER)


class ThrottledSignIn:
    """Counts each attempt of a sign-in form against the throttle before the password is checked
    (``segapp/signin_throttle.py``); the console's and the admin's sign-in forms both use it."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # a field is missing: Django checks no password, nor do we
        try:
            attempt = signin_throttle.begin_attempt(self.request, username)
        except Refusal as refusal:
            self.throttled = True
            raise forms.ValidationError(refusal.message, code=refusal.rule) from None
        cleaned_data = super().clean()  # raises on a wrong password: the attempt stays counted
        signin_throttle.succeeded(attempt)
        return cleaned_data


class SignInForm(ThrottledSignIn, AuthenticationForm):
    pass


class AdminSignInForm(ThrottledSignIn, AdminAuthenticationForm):
    pass
