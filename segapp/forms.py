from django import forms

from segapp.models import ApiToken, Plan, Role
from segapp.refusal import Refusal


def add_refusal(form: forms.Form, refusal: Refusal) -> None:
    """Shows a rule's refusal on the form field it concerns (or on the form)."""
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, refusal.message)


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100)
    plan = forms.ChoiceField(choices=Plan.choices, initial=Plan.FREE)


class MemberAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenCreateForm(forms.Form):
    description = forms.CharField(max_length=200)
    role = forms.ChoiceField(choices=ApiToken.ROLES, initial=Role.MEMBER)
