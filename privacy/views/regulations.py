"""Privacy → End-user privacy: the workspace's suppressed users and regulations, each deletion's
progress in every system, and an owner's forms to suppress users, request a deletion and lift a
suppression (Segment's Settings → End User Privacy).

One URL. GET shows the page; with HTMX, the regulations' list alone, which the page polls while a
deletion runs. POST creates one regulation of the form's type through ``privacy.regulations``,
which decides everything: a refusal comes back beside its field on a 200 page (htmx 2 does not
swap a 4xx), and every form is a plain form that works without JS.
"""

import re
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from connections.models import Source
from privacy import regulations
from privacy.models import DeletionStep, Regulation, RegulationType, Suppression
from segapp.access import workspace_view
from segapp.models import Role
from segapp.refusal import Refusal

P = "w/<slug:workspace_slug>/privacy/"
PER_PAGE = 25
SUPPRESSED_PER_PAGE = 50
LINES = re.compile(r"\r?\n")
WORKSPACE = ""
# A Refusal names the API's field; the form's field of the same meaning shows its message.
FORM_FIELDS = {"subjectIds": "user_ids", "regulationType": "regulation_type"}
DELETION_CHOICES = [
    (RegulationType.SUPPRESS_WITH_DELETE, "Suppress and delete"),
    (RegulationType.DELETE_ONLY, "Delete only"),
    (RegulationType.DELETE_INTERNAL, "Delete internally (not in warehouses)"),
]
DELETION_HELP = (
    "Suppress and delete blocks their new data and deletes what exists; delete only keeps "
    "receiving their new data; internally deletes from the archive, not from warehouses."
)
LIST_TARGET = "regulation-list"


class RegulationForm(forms.Form):
    """One regulation's choices, checked for shape only: ``privacy.regulations`` decides."""

    regulation_type = forms.ChoiceField(label="What to do", choices=RegulationType.choices)
    user_ids = forms.CharField(
        label="User ids",
        widget=forms.Textarea(
            attrs={"rows": 3, "class": "mono", "spellcheck": "false", "placeholder": "user-1234"}
        ),
        help_text=f"The userId your sources send, one per line; {regulations.MAX_SUBJECTS} at most.",
    )
    source = forms.ChoiceField(label="Where", required=False)

    def __init__(self, *args, sources: list[Source], **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = {source.pk: source for source in sources}
        self.fields["source"].choices = [
            (WORKSPACE, "Every source of the workspace"),
            *((source.pk, f"Only {source.name}") for source in sources),
        ]

    def clean_user_ids(self) -> list[str]:
        return [line.strip() for line in LINES.split(self.cleaned_data["user_ids"]) if line.strip()]

    def choices(self) -> dict:
        """What ``regulations.create_regulation`` takes."""
        data = self.cleaned_data
        return {
            "regulation_type": data["regulation_type"],
            "subject_ids": data["user_ids"],
            "source": self.sources.get(data["source"]),
        }

    def show(self, refusal: Refusal) -> None:
        self.add_error(FORM_FIELDS.get(refusal.field), refusal.message)


def _forms(sources, data=None) -> dict:
    """The page's two forms; ``data`` goes to the one that was sent."""
    kind = (data or {}).get("form")
    suppress = RegulationForm(
        data if kind == "suppress" else None,
        sources=sources,
        prefix="suppress",
        initial={"regulation_type": RegulationType.SUPPRESS_ONLY},
    )
    suppress.fields["regulation_type"].widget = forms.HiddenInput()
    delete = RegulationForm(
        data if kind == "delete" else None,
        sources=sources,
        prefix="delete",
        initial={"regulation_type": RegulationType.SUPPRESS_WITH_DELETE},
    )
    delete.fields["regulation_type"].choices = DELETION_CHOICES
    delete.fields["regulation_type"].help_text = DELETION_HELP
    return {"suppress": suppress, "delete": delete}


@dataclass
class Row:
    """A regulation as the list shows it."""

    regulation: Regulation
    scope: str
    steps: list[DeletionStep]

    SHOWN_SUBJECTS = 3

    @property
    def subjects(self) -> list[str]:
        return self.regulation.subject_ids[: self.SHOWN_SUBJECTS]

    @property
    def more_subjects(self) -> int:
        return max(0, len(self.regulation.subject_ids) - self.SHOWN_SUBJECTS)

    @property
    def suppresses(self) -> bool:
        return self.regulation.regulation_type in regulations.SUPPRESSING

    @property
    def is_running(self) -> bool:
        return self.regulation.status in regulations.UNFINISHED


def _rows(request, sources: dict) -> tuple:
    """The page of regulations asked for, newest first: four queries whatever its size (the
    count, the page, their steps; the sources are the page's own)."""
    newest = Regulation.objects.filter(workspace=request.workspace).order_by("-created_at", "id")
    newest = newest.prefetch_related(Prefetch("steps", DeletionStep.objects.order_by("pk")))
    page = Paginator(newest, PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        Row(regulation, _scope(regulation.source_id, sources), list(regulation.steps.all()))
        for regulation in page
    ]
    return page, rows


def _scope(source_id: str | None, sources: dict) -> str:
    if source_id is None:
        return "Every source"
    source = sources.get(source_id)
    return source.name if source else "a deleted source"


def _context(request, sources: list[Source], forms_: dict) -> dict:
    by_id = {source.pk: source for source in sources}
    page, rows = _rows(request, by_id)
    suppressed = Suppression.objects.filter(workspace=request.workspace).order_by(
        "user_id", "source_id"
    )
    suppressed_page = Paginator(suppressed, SUPPRESSED_PER_PAGE).get_page(
        request.GET.get("suppressed")
    )
    return {
        "privacy_tab": "regulations",
        "nav_section": "privacy",
        "forms": forms_,
        "page": page,
        "rows": rows,
        "running": any(row.is_running for row in rows),
        "suppressed": [
            (s, _scope(s.source_id, by_id), s.source_id or WORKSPACE) for s in suppressed_page
        ],
        "suppressed_page": suppressed_page,
    }


def _sources(request) -> list[Source]:
    return list(Source.objects.filter(workspace=request.workspace).order_by("name", "pk"))


@workspace_view(change=Role.OWNER)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def regulations_page(request):
    sources = _sources(request)
    if request.method == "POST":
        return _create(request, sources)
    context = _context(request, sources, _forms(sources))
    if request.htmx and request.htmx.target == LIST_TARGET:
        response = render(request, "privacy/_regulation_list.html", context)
        # Every deletion on the page has ended: the page stops asking.
        return response if context["running"] else HttpResponseStopPolling(response.content)
    return render(request, "privacy/regulations.html", context)


def _create(request, sources: list[Source]):
    forms_ = _forms(sources, request.POST)
    form = forms_.get(request.POST.get("form"))
    if form is None:  # the remove button of a suppressed user: an UNSUPPRESS
        form = RegulationForm(request.POST, sources=sources)
    if form.is_valid():
        try:
            regulation = regulations.create_regulation(
                request.workspace, request.user, **form.choices()
            )
        except Refusal as refusal:
            form.show(refusal)
        else:
            messages.success(request, _done(regulation))
            return redirect(reverse("privacy:regulations", args=[request.workspace.slug]))
    if form not in forms_.values():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(reverse("privacy:regulations", args=[request.workspace.slug]))
    return render(request, "privacy/regulations.html", _context(request, sources, forms_))


def _done(regulation: Regulation) -> str:
    count = len(regulation.subject_ids)
    users = f"{count} user{pluralize(count)}"
    kind = regulation.regulation_type
    if kind == RegulationType.SUPPRESS_ONLY:
        return f"Suppressed {users}: their new events are accepted but sent to no destination."
    if kind == RegulationType.UNSUPPRESS:
        return f"Lifted the suppression of {users}: their new events are routed again."
    return f"Deletion requested for {users}: it runs in the background, its progress below."


urls = [path(P + "regulations/", regulations_page, name="regulations")]
