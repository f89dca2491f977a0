"""Privacy → Matchers: the built-in matchers, and the workspace's custom matchers (add, edit,
delete) through ``privacy.custom_matchers``, whose rules live in ``privacy.matcher_rules``."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from privacy import custom_matchers, matcher_rules, matchers
from privacy.models import Classification, Matcher, MatchOn
from segapp.access import get_in_workspace, workspace_view
from segapp.forms import add_refusal
from segapp.models import Role
from segapp.refusal import Refusal

P = "w/<slug:workspace_slug>/privacy/matchers/"
OWNER = Role.OWNER


class MatcherForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What the Inbox names it as a field's matcher, e.g. SIN."
    )
    classification = forms.ChoiceField(
        label="Default classification",
        choices=[
            (Classification.RED, "Red: highly restricted"),
            (Classification.YELLOW, "Yellow: moderately restricted"),
        ],
        initial=Classification.RED,
        widget=forms.RadioSelect,
    )
    match_on = forms.ChoiceField(
        label="Match on", choices=MatchOn.choices, initial=MatchOn.KEY, widget=forms.RadioSelect
    )
    pattern = forms.CharField(
        label="Keys or pattern",
        max_length=Matcher._meta.get_field("pattern").max_length,
        help_text=(
            "Key: names and synonyms separated by commas (SIN, Social Insurance Number, "
            "SocInsNo), matched whatever their case or separators, or a regular expression "
            "between slashes, which sees the key in lower case with spaces between words "
            "(/^social insurance/). Value: a regular expression searched in each sample value "
            r"(\b\d{3}-\d{3}-\d{3}\b). Patterns follow RE2 syntax, as Segment's do."
        ),
    )

    @classmethod
    def initial_from(cls, matcher: Matcher) -> dict:
        return {
            "name": matcher.name,
            "classification": matcher.classification,
            "match_on": matcher.match_on,
            "pattern": matcher.pattern,
        }


def _page_context(request, form: MatcherForm) -> dict:
    own = Matcher.objects.filter(workspace=request.workspace).order_by("name")
    return {
        "privacy_tab": "matchers",
        "nav_section": "privacy",
        "builtin": matchers.BUILTIN,
        "custom": list(own),
        "limit": matcher_rules.MAX_CUSTOM_MATCHERS,
        "form": form,
    }


def _saved(request, message: str):
    messages.success(request, message)
    url = reverse("privacy:matchers", args=[request.workspace.slug])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@workspace_view(change=OWNER)
@require_http_methods(["GET", "POST"])
def matcher_list(request):
    """The Matchers tab; POST adds a custom matcher. A refused form comes back with its errors
    (the form alone to HTMX, as 200: htmx does not swap a 4xx)."""
    form = MatcherForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            matcher = custom_matchers.create_matcher(
                request.workspace, request.user, **form.cleaned_data
            )
        except Refusal as refused:
            add_refusal(form, refused)
        else:
            return _saved(request, f"Added the matcher “{matcher.name}”: the Inbox uses it now.")
    if request.method == "POST" and request.htmx:
        context = {"form": form, "action_url": request.path, "submit": "Add matcher"}
        return render(request, "privacy/_matcher_form.html", context)
    return render(request, "privacy/matchers.html", _page_context(request, form))


def matcher_in_workspace(request, matcher_id) -> Matcher:
    return get_in_workspace(Matcher.objects.select_related("workspace"), request.workspace, pk=matcher_id)  # fmt: skip


@workspace_view(change=OWNER)
@require_http_methods(["GET", "POST"])
def matcher_edit(request, matcher_id):
    matcher = matcher_in_workspace(request, matcher_id)
    form = MatcherForm(request.POST or None, initial=MatcherForm.initial_from(matcher))
    if request.method == "POST" and form.is_valid():
        try:
            custom_matchers.update_matcher(matcher, request.user, **form.cleaned_data)
        except Refusal as refused:
            add_refusal(form, refused)
        else:
            return _saved(request, f"Saved the matcher “{matcher.name}”.")
    context = {
        "privacy_tab": "matchers",
        "nav_section": "privacy",
        "matcher": matcher,
        "form": form,
    }
    if request.method == "POST" and request.htmx:
        context.update(action_url=request.path, submit="Save matcher")
        return render(request, "privacy/_matcher_form.html", context)
    return render(request, "privacy/matcher_edit.html", context)


@workspace_view(change=OWNER)
@require_http_methods(["GET", "POST"])
def matcher_delete(request, matcher_id):
    matcher = matcher_in_workspace(request, matcher_id)
    if request.method == "POST":
        name = matcher.name
        custom_matchers.delete_matcher(matcher, request.user)
        return _saved(request, f"Deleted the matcher “{name}”.")
    context = {"privacy_tab": "matchers", "nav_section": "privacy", "matcher": matcher}
    return render(request, "privacy/matcher_delete.html", context)


urls = [
    path(P, matcher_list, name="matchers"),
    path(P + "<int:matcher_id>/", matcher_edit, name="matcher-edit"),
    path(P + "<int:matcher_id>/delete/", matcher_delete, name="matcher-delete"),
]
