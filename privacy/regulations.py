"""Regulations: suppressing and deleting end users' data by ``userId``, for the whole workspace or
one source (https://segment.com/docs/privacy/user-deletion-and-suppression/), in one place for the
console, the Public API and admin.

Each ``refuse_*`` returns None or a Refusal that names the rule. ``create_regulation`` asks them,
then writes the regulation and its effects and audits it. Suppressions are added or lifted at
once, so a suppress-only or unsuppress regulation is FINISHED when created. A deleting one gets
a ``DeletionStep`` per system holding the users' data: the ``archive`` step, and those of the
apps that keep data elsewhere, which register a planner (``register_planner``: the warehouses
app plans one step per warehouse). ``privacy`` imports neither ``delivery`` nor ``warehouses``:
their sweeps carry the steps out and report through ``start_step``/``end_step``, and
``overall_status`` alone derives a regulation's status from its steps.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connections.models import Source
from privacy.models import DeletionStep, Regulation, RegulationStatus, RegulationType, Suppression
from segapp import audit
from segapp.models import User, Workspace
from segapp.refusal import Refusal

MAX_SUBJECTS = 5000  # per request, as Segment's Public API allows
MAX_SUBJECT_LENGTH = 255  # the archive's userId column
USER_ID = "USER_ID"
OBJECT_ID = "OBJECT_ID"
ARCHIVE = "archive"
ARCHIVE_LABEL = "Event archive"

SUPPRESSING = {RegulationType.SUPPRESS_ONLY, RegulationType.SUPPRESS_WITH_DELETE}
DELETING = {
    RegulationType.DELETE_ONLY,
    RegulationType.SUPPRESS_WITH_DELETE,
    RegulationType.DELETE_INTERNAL,
}
# DELETE_INTERNAL deletes from Segapp's own stores only, not from connected warehouses.
DELETING_DOWNSTREAM = {RegulationType.DELETE_ONLY, RegulationType.SUPPRESS_WITH_DELETE}
UNFINISHED = {RegulationStatus.INITIALIZED, RegulationStatus.RUNNING}

# A planner returns the unsaved steps its app must carry out for a deleting regulation.
Planner = Callable[[Regulation, list[str]], list[DeletionStep]]
_planners: list[Planner] = []


def register_planner(planner: Planner) -> None:
    """Called from an app's ``ready``: ``planner`` adds its steps to every deleting regulation."""
    if planner not in _planners:
        _planners.append(planner)


# Rules.


def refuse_type(regulation_type) -> Refusal | None:
    if regulation_type not in RegulationType.values:
        return Refusal(
            f"Unknown regulation type {regulation_type!r}: choose among "
            f"{', '.join(RegulationType.values)}.",
            rule="regulation-type",
            field="regulationType",
        )
    return None


def refuse_subject_type(subject_type) -> Refusal | None:
    if subject_type == OBJECT_ID:
        # Segment regulates cloud sources' objects by objectId; Segapp's archive and warehouses
        # hold events, which it finds by userId only.
        return Refusal(
            "OBJECT_ID regulations delete cloud sources' objects, which Segapp does not keep: "
            "regulate end users by USER_ID.",
            rule="regulation-subject-type",
            field="subjectType",
        )
    if subject_type != USER_ID:
        return Refusal(
            "The subject type must be USER_ID.", rule="regulation-subject-type", field="subjectType"
        )
    return None


def clean_subjects(subject_ids) -> tuple[list[str], Refusal | None]:
    """The user ids in the order given, each once; or the refusal of the first bad one. Ids are
    matched exactly, as the tracking API stored them, so nothing is trimmed."""

    def refused(message: str) -> tuple[list[str], Refusal]:
        return [], Refusal(message, rule="regulation-subjects", field="subjectIds")

    if not isinstance(subject_ids, list | tuple):
        return refused("Give the user ids as a list.")
    if len(subject_ids) > MAX_SUBJECTS:
        return refused(f"At most {MAX_SUBJECTS} user ids per request; split the rest.")
    for subject in subject_ids:
        if not isinstance(subject, str) or not subject.strip():
            return refused("Each user id must be non-empty text.")
        if len(subject) > MAX_SUBJECT_LENGTH:
            return refused(f"A user id is at most {MAX_SUBJECT_LENGTH} characters long.")
        if "\x00" in subject:
            return refused("A user id may not hold a NUL character.")
    subjects = list(dict.fromkeys(subject_ids))
    if not subjects:
        return refused("Give at least one user id.")
    return subjects, None


def refuse_source(workspace_id: str, source: Source | None) -> Refusal | None:
    if source is not None and source.workspace_id != workspace_id:
        return Refusal(
            "That source is not in this workspace.", rule="regulation-source", field="sourceId"
        )
    return None


def refuse_unsuppress_scope(suppressed_workspace_wide: list[str]) -> Refusal | None:
    """A source cannot make an exception to a workspace-wide suppression: lifting it is the
    workspace's regulation to make."""
    if suppressed_workspace_wide:
        shown = ", ".join(suppressed_workspace_wide[:3])
        more = len(suppressed_workspace_wide) - 3
        return Refusal(
            f"{shown}{f' and {more} more' if more > 0 else ''} "
            f"{'is' if len(suppressed_workspace_wide) == 1 else 'are'} suppressed in the whole "
            "workspace: unsuppress them workspace-wide instead.",
            rule="unsuppress-scope",
            field="subjectIds",
            status=409,
        )
    return None


def refuse_removal(status: str) -> Refusal | None:
    """Segment: "The regulation must be in the initialized state to be deleted"."""
    if status != RegulationStatus.INITIALIZED:
        return Refusal(
            f"This regulation is {status}: only one still INITIALIZED can be deleted.",
            rule="regulation-not-initialized",
            status=409,
        )
    return None


def refuse(regulation_type, subject_type, subject_ids) -> tuple[list[str], Refusal | None]:
    """(the user ids, cleaned; the first rule the input breaks, or None)."""
    if refusal := refuse_type(regulation_type) or refuse_subject_type(subject_type):
        return [], refusal
    return clean_subjects(subject_ids)


# Status.


def overall_status(step_statuses) -> str:
    """A regulation's status from its steps': INITIALIZED until one starts, RUNNING until all
    end, then FINISHED if all succeeded, PARTIAL_SUCCESS if some did, FAILED if none did. A
    regulation without steps (it only suppresses or unsuppresses) is FINISHED."""
    statuses = set(step_statuses)
    if not statuses:
        return RegulationStatus.FINISHED
    if statuses & UNFINISHED:
        return (
            RegulationStatus.INITIALIZED
            if statuses == {RegulationStatus.INITIALIZED}
            else (RegulationStatus.RUNNING)
        )
    ended = statuses - {RegulationStatus.NOT_SUPPORTED}
    if not ended:
        return RegulationStatus.NOT_SUPPORTED
    if ended == {RegulationStatus.FINISHED}:
        return RegulationStatus.FINISHED
    if RegulationStatus.FINISHED in ended:
        return RegulationStatus.PARTIAL_SUCCESS
    return RegulationStatus.FAILED


def _settle(regulation: Regulation, statuses) -> None:
    regulation.status = overall_status(statuses)
    ended = regulation.status not in UNFINISHED
    regulation.finished_at = (regulation.finished_at or timezone.now()) if ended else None


def refresh_status(regulation_id: str) -> None:
    """Derives the regulation's status again, under its row lock (two systems' sweeps may end
    their steps at the same moment)."""
    with transaction.atomic():
        regulation = Regulation.objects.select_for_update().filter(pk=regulation_id).first()
        if regulation is None:
            return
        before = (regulation.status, regulation.finished_at)
        _settle(regulation, regulation.steps.values_list("status", flat=True))
        if (regulation.status, regulation.finished_at) != before:
            regulation.save(update_fields=["status", "finished_at"])


# What a deletion covers.


def covered_source_ids(regulation: Regulation) -> list[str]:
    """The sources whose data the regulation deletes: its source, or every source of the
    workspace."""
    if regulation.source_id:
        return [regulation.source_id]
    return list(
        Source.objects.filter(workspace_id=regulation.workspace_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def deletes_until(regulation: Regulation) -> datetime | None:
    """Events received after this are kept (None: every event is deleted). A deletion that does
    not suppress deletes existing data only, and the user's new events are theirs to keep; one
    that suppresses also deletes what arrived since, which no destination received."""
    if regulation.regulation_type in SUPPRESSING:
        return None
    return regulation.created_at


# Operations.


def snapshot(regulation: Regulation) -> dict:
    return {
        "regulationType": regulation.regulation_type,
        "subjectType": regulation.subject_type,
        "subjectIds": regulation.subject_ids[:20],
        "subjectCount": len(regulation.subject_ids),
        "sourceId": regulation.source_id,
    }


def create_regulation(
    workspace: Workspace,
    actor,
    *,
    regulation_type: str,
    subject_ids,
    subject_type: str = USER_ID,
    source: Source | None = None,
) -> Regulation:
    """Records a regulation for the workspace (or one of its sources), carries out its
    suppression at once, plans its deletion steps, and audits it. Raises the Refusal of a rule
    the input breaks."""
    subjects, refusal = refuse(regulation_type, subject_type, subject_ids)
    if refusal := refusal or refuse_source(workspace.pk, source):
        raise refusal
    with transaction.atomic():
        if regulation_type == RegulationType.UNSUPPRESS and source is not None:
            wide = Suppression.objects.filter(
                workspace=workspace, source__isnull=True, user_id__in=subjects
            ).values_list("user_id", flat=True)
            if refusal := refuse_unsuppress_scope(sorted(wide)):
                raise refusal
        regulation = Regulation.objects.create(
            workspace=workspace,
            source=source,
            regulation_type=regulation_type,
            subject_type=subject_type,
            subject_ids=subjects,
            created_by=actor if isinstance(actor, User) else None,
            requested_by=audit.actor_label(actor),
        )
        steps = _apply(regulation, subjects)
        _settle(regulation, [step.status for step in steps])
        regulation.save(update_fields=["status", "finished_at"])
        audit.record(
            workspace,
            actor,
            "regulation.created",
            regulation,
            after=snapshot(regulation),
            label=label(regulation),
        )
    return regulation


def _apply(regulation: Regulation, subjects: list[str]) -> list[DeletionStep]:
    """The regulation's effects: suppressions added or lifted, deletion steps planned."""
    scope = {"workspace_id": regulation.workspace_id, "source_id": regulation.source_id}
    if regulation.regulation_type in SUPPRESSING:
        Suppression.objects.bulk_create(
            [Suppression(**scope, user_id=s, regulation=regulation) for s in subjects],
            ignore_conflicts=True,  # already suppressed: the first regulation keeps it
        )
    if regulation.regulation_type == RegulationType.UNSUPPRESS:
        lifted = Suppression.objects.filter(
            workspace_id=regulation.workspace_id, user_id__in=subjects
        )
        # Workspace-wide it lifts every suppression of the users; for a source, that source's.
        if regulation.source_id:
            lifted = lifted.filter(source_id=regulation.source_id)
        lifted.delete()
    if regulation.regulation_type not in DELETING:
        return []
    steps = [DeletionStep(regulation=regulation, system=ARCHIVE, label=ARCHIVE_LABEL)]
    if regulation.regulation_type in DELETING_DOWNSTREAM:
        sources = covered_source_ids(regulation)
        for planner in _planners:
            steps += planner(regulation, sources)
    return DeletionStep.objects.bulk_create(steps)


def remove_regulation(regulation: Regulation, actor) -> None:
    """Withdraws a regulation no system has started on: its steps go, and so do the
    suppressions it added. Raises a Refusal once it has started."""
    with transaction.atomic():
        regulation = Regulation.objects.select_for_update().get(pk=regulation.pk)
        if refusal := refuse_removal(regulation.status):
            raise refusal
        Suppression.objects.filter(regulation=regulation).delete()
        audit.record(
            regulation.workspace,
            actor,
            "regulation.deleted",
            regulation,
            before=snapshot(regulation),
            label=label(regulation),
        )
        regulation.delete()


def label(regulation: Regulation) -> str:
    """What the audit trail calls it: "SUPPRESS_ONLY of ada@example.com", "… of 12 users"."""
    subjects = regulation.subject_ids
    who = subjects[0] if len(subjects) == 1 else f"{len(subjects)} users"
    return f"{regulation.regulation_type} of {who}"[:200]


# Steps, as the systems' sweeps carry them out.


def open_steps(system_prefix: str):
    """Unfinished steps of one system (``archive``) or kind (``warehouse:``), oldest request
    first."""
    return (
        DeletionStep.objects.filter(system__startswith=system_prefix, status__in=UNFINISHED)
        .select_related("regulation")
        .order_by("regulation__created_at", "pk")
    )


def start_step(step: DeletionStep) -> bool:
    """The system begins (or goes on with) the step, and so its regulation is RUNNING; False if
    the regulation was withdrawn meanwhile. Under the regulation's lock, as ``remove_regulation``
    takes it: a regulation is either withdrawn before any system starts on it, or not at all."""
    with transaction.atomic():
        regulation = Regulation.objects.select_for_update().filter(pk=step.regulation_id).first()
        current = regulation and regulation.steps.filter(pk=step.pk).first()
        if not current:
            return False
        if current.status == RegulationStatus.INITIALIZED:
            now = timezone.now()
            current.status, current.started_at, current.updated_at = (
                RegulationStatus.RUNNING,
                now,
                now,
            )
            current.save(update_fields=["status", "started_at", "updated_at"])
            step.status, step.started_at = current.status, now
            _settle(regulation, regulation.steps.values_list("status", flat=True))
            regulation.save(update_fields=["status", "finished_at"])
    return True


def record_progress(step: DeletionStep, deleted: int, progress: dict) -> None:
    """Rows deleted since the last call, and where to resume; in the caller's transaction, with
    the deletion itself, so a worker that dies never counts or skips a chunk."""
    step.progress = progress
    DeletionStep.objects.filter(pk=step.pk).update(
        deleted=F("deleted") + deleted, progress=progress, updated_at=timezone.now()
    )


def end_step(step: DeletionStep, status: str, error: str = "", *, attempted: bool = False) -> None:
    """The system is done with the step: FINISHED, or FAILED with why (``attempted``: after a
    failed attempt, counted like those retried)."""
    now = timezone.now()
    DeletionStep.objects.filter(pk=step.pk).update(
        status=status,
        error=error[:2000],
        finished_at=now,
        updated_at=now,
        next_attempt_at=None,
        attempts=F("attempts") + int(attempted),
    )
    step.status, step.error, step.finished_at = status, error, now
    refresh_status(step.regulation_id)


def retry_step(step: DeletionStep, error: str, at: datetime) -> None:
    """A failed attempt the system will try again at ``at``; the step stays RUNNING."""
    DeletionStep.objects.filter(pk=step.pk).update(
        attempts=F("attempts") + 1,
        error=error[:2000],
        next_attempt_at=at,
        updated_at=timezone.now(),
    )
