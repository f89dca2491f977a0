"""Console pages for Replay: a destination instance's archived events sent again.

One URL (``replay/``): GET shows the form and the instance's replays; with HTMX, one replay's
progress (polled every second while it is unfinished) or the form's section. POST previews
(``action=preview``: how many archived events match, or the rule the choices break, next to its
field) or starts a replay. Cancel has a URL of its own. Whether a replay may start is
``replays.refuse``'s say alone; starting and cancelling go through ``delivery.replays``, which
audits.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from connections.views.instances import instance_in_workspace
from delivery import replays, retention, rules, tasks
from delivery.models import Replay
from segapp.access import get_in_workspace, workspace_view
from segapp.refusal import Refusal

REPLAYS_SHOWN = 20
NAME_SEPARATORS = re.compile(r"[,\n]")
# A Refusal names the API's field; the form's field of the same meaning shows its message.
FORM_FIELDS = {"startTime": "start", "endTime": "end", "types": "types",
               "eventNames": "event_names", "rate": "rate"}  # fmt: skip
# Sent when a replay ends, so the form's section offers Start again without a reload.
ENDED_EVENT = "replayEnded"


class UtcDateTimeField(forms.DateTimeField):
    """Read and shown in UTC whatever the server's time zone, as the page says."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        with timezone.override(UTC):
            return super().to_python(value)

    def prepare_value(self, value):
        with timezone.override(UTC):
            return super().prepare_value(value)


class ReplayForm(forms.Form):
    """The choices' shape only: whether a replay of them is allowed is ``replays.refuse``'s say."""

    start = UtcDateTimeField(label="Start (UTC)")
    end = UtcDateTimeField(label="End (UTC)")
    types = forms.MultipleChoiceField(
        label="Event types",
        required=False,
        choices=[(t, t) for t in rules.EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked: every type.",
    )
    event_names = forms.CharField(
        label="Event names",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Order Completed, Signed Up"}),
        help_text="Comma or line separated. Empty: every name.",
    )
    rate = forms.IntegerField(label="Rate (events per second)", required=False)
    mark_context = forms.BooleanField(
        label="Add context.replay = true to each event", required=False, initial=True
    )

    def __init__(self, *args, kept_from: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate"].initial = settings.REPLAY_RATE
        self.fields["rate"].help_text = f"Empty: {settings.REPLAY_RATE}."
        oldest = _next_minute(kept_from).strftime("%Y-%m-%dT%H:%M")
        for name in ("start", "end"):
            self.fields[name].widget.attrs["min"] = oldest

    def clean_event_names(self) -> list[str]:
        names = NAME_SEPARATORS.split(self.cleaned_data["event_names"])
        return [name.strip() for name in names if name.strip()]

    def selection(self) -> dict:
        """What ``replays.refuse`` and ``replays.matching_events`` take."""
        data = self.cleaned_data
        return {"start": data["start"], "end": data["end"], "types": data["types"],
                "event_names": data["event_names"]}  # fmt: skip

    def show(self, refusal: Refusal) -> None:
        self.add_error(FORM_FIELDS.get(refusal.field), refusal.message)


@dataclass
class Progress:
    """A replay as its row shows it."""

    replay: Replay
    eta: str = ""

    @classmethod
    def of(cls, replay: Replay) -> "Progress":
        remaining = max(replay.total - replay.settled, 0)
        if replay.is_finished or not replay.started_at or not remaining:
            return cls(replay)
        return cls(replay, _duration(remaining / replay.rate))

    @property
    def ran_for(self) -> str:
        replay = self.replay
        if not replay.finished_at:
            return ""
        began = replay.started_at or replay.created_at
        return _duration((replay.finished_at - began).total_seconds())


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _initial(kept_from: datetime, now: datetime) -> dict:
    """The 24 hours to the next full hour, or as much of them as the archive keeps."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return {"start": max(_next_minute(kept_from), end - timedelta(days=1)), "end": end}


def _page_url(request, instance) -> str:
    return reverse("delivery:replay", args=[request.workspace.slug, instance.pk])


def _context(request, instance, form=None, preview=None) -> dict:
    now = timezone.now()
    kept_from = retention.kept_from(request.workspace, now)
    if form is None:
        form = ReplayForm(initial=_initial(kept_from, now), kept_from=kept_from)
    shown = Replay.objects.filter(instance_id=instance.pk)[:REPLAYS_SHOWN]
    return {
        "instance": instance,
        "source": instance.source,
        "entry": instance.metadata,
        "form": form,
        "preview": preview,
        "kept_from": kept_from,
        # The widest range the archive keeps, refused: no choice of range would do (the plan,
        # the destination, a replay already running), so the form is not offered.
        "unavailable": replays.refuse(instance, kept_from, now, now=now),
        "replays": [Progress.of(replay) for replay in shown],
    }


@workspace_view()
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def replay(request, instance_id):
    """Replay: the form, and the instance's replays with their progress."""
    instance = instance_in_workspace(request, instance_id)
    if request.method == "POST":
        return _preview_or_start(request, instance)
    if request.htmx and request.GET.get("replay"):
        return _progress(request, instance, request.GET["replay"])
    if request.htmx and request.htmx.target == "replay-start":
        return render(request, "delivery/_replay_start.html", _context(request, instance))
    return render(request, "delivery/replay.html", _context(request, instance))


def _preview_or_start(request, instance):
    """Preview, or Start (the form's other button); a refusal comes back beside its field."""
    kept_from = retention.kept_from(request.workspace, timezone.now())
    form = ReplayForm(request.POST, kept_from=kept_from)
    preview = None
    if form.is_valid():
        if request.POST.get("action") == "preview":
            preview = _preview(instance, form)
        elif started := _start(request, instance, form):
            count = f"{started.total} archived event{pluralize(started.total)}"
            messages.success(request, f"Replay started: {count}.")
            return redirect(_page_url(request, instance))
    context = _context(request, instance, form, preview)
    if request.htmx:
        return render(request, "delivery/_replay_start.html", context)
    return render(request, "delivery/replay.html", context)


def _preview(instance, form: ReplayForm) -> dict | None:
    """The choices and how many archived events they select, or None with the refusal on the
    form."""
    choices = form.selection()
    refusal = replays.refuse(instance, rate=form.cleaned_data["rate"], **choices)
    if refusal:
        form.show(refusal)
        return None
    return {"count": replays.matching_events(instance.source_id, **choices).count(), **choices}


def _start(request, instance, form: ReplayForm) -> Replay | None:
    data = form.cleaned_data
    try:
        started = replays.start_replay(instance, request.user, **form.selection(),
                                       rate=data["rate"], mark_context=data["mark_context"])  # fmt: skip
    except Refusal as refusal:
        form.show(refusal)
        return None
    tasks.queue_replay(started.pk)
    return started


def _progress(request, instance, replay_id: str, **extra):
    """One replay's row; once it has ended, polling stops and the page hears it ended."""
    replay = get_in_workspace(
        Replay.objects.filter(instance_id=instance.pk), request.workspace, pk=replay_id
    )
    context = {"instance": instance, "row": Progress.of(replay), **extra}
    response = render(request, "delivery/_replay_progress.html", context)
    if replay.is_finished:
        response = HttpResponseStopPolling(response.content)
        trigger_client_event(response, ENDED_EVENT)
    return response


@workspace_view()
@require_POST
def replay_cancel(request, instance_id):
    """Cancels the replay named in the form; one that has already ended is left as it is."""
    instance = instance_in_workspace(request, instance_id)
    replay = get_in_workspace(
        Replay.objects.filter(instance_id=instance.pk), request.workspace,
        pk=request.POST.get("replay", ""),
    )  # fmt: skip
    error = ""
    try:
        replays.cancel_replay(replay, request.user)
    except Refusal as refusal:
        error = refusal.message
    if request.htmx:
        return _progress(request, instance, replay.pk, cancel_error=error)
    if error:
        messages.error(request, error)
    return redirect(_page_url(request, instance))
