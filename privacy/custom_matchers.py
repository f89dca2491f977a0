"""A workspace's custom matchers: add, change and delete them under the rules of
``privacy.matcher_rules``, with an audit entry, and bring the Inbox's suggestions up to date.

A matcher's change only touches suggestions, never a classification, so routing has nothing to
pick up: no policy version bump here (``privacy.inventory`` makes those)."""

from django.db import transaction

from privacy import matcher_rules, matchers
from privacy.models import Field, Matcher
from segapp import audit
from segapp.models import Workspace

RESUGGEST_BATCH = 500


def matchers_for(workspace_id: str) -> list[matchers.Matcher]:
    """The built-in matchers and the workspace's own, ready to match (one query)."""
    rows = Matcher.objects.filter(workspace_id=workspace_id).order_by("name")
    own = [matchers.custom(m.name, m.classification, m.match_on, m.pattern) for m in rows]
    return [*matchers.BUILTIN, *own]


def _snapshot(matcher: Matcher) -> dict:
    return {
        "name": matcher.name,
        "classification": matcher.classification,
        "match_on": matcher.match_on,
        "pattern": matcher.pattern,
    }


def _check(workspace: Workspace, proposal: matcher_rules.Proposal, exclude_pk=None) -> None:
    others = Matcher.objects.filter(workspace=workspace)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if refusal := matcher_rules.refuse_matcher(proposal, others.values_list("name", flat=True)):
        raise refusal


def create_matcher(
    workspace: Workspace, actor, *, name: str, classification: str, match_on: str, pattern: str
) -> Matcher:
    proposal = matcher_rules.Proposal(name.strip(), classification, match_on, pattern.strip())
    with transaction.atomic():
        # The workspace's row lock makes two concurrent adds count each other.
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        count = Matcher.objects.filter(workspace=workspace).count()
        if refusal := matcher_rules.refuse_another_matcher(count):
            raise refusal
        _check(workspace, proposal)
        matcher = Matcher.objects.create(
            workspace=workspace,
            name=proposal.name,
            classification=proposal.classification,
            match_on=proposal.match_on,
            pattern=proposal.pattern,
        )
        audit.record(workspace, actor, "privacy.matcher_created", matcher, after=_snapshot(matcher))
        resuggest(workspace.pk)
    return matcher


def update_matcher(
    matcher: Matcher, actor, *, name: str, classification: str, match_on: str, pattern: str
) -> Matcher:
    proposal = matcher_rules.Proposal(name.strip(), classification, match_on, pattern.strip())
    workspace = matcher.workspace
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        _check(workspace, proposal, exclude_pk=matcher.pk)
        before = _snapshot(Matcher.objects.get(pk=matcher.pk))
        matcher.name, matcher.classification = proposal.name, proposal.classification
        matcher.match_on, matcher.pattern = proposal.match_on, proposal.pattern
        after = _snapshot(matcher)
        if after == before:
            return matcher
        matcher.save(update_fields=["name", "classification", "match_on", "pattern"])
        audit.record(
            workspace,
            actor,
            "privacy.matcher_updated",
            matcher,
            before=before,
            after=_snapshot(matcher),
        )
        resuggest(workspace.pk)
    return matcher


def delete_matcher(matcher: Matcher, actor) -> None:
    workspace = matcher.workspace
    with transaction.atomic():
        audit.record(
            workspace, actor, "privacy.matcher_deleted", matcher, before=_snapshot(matcher)
        )
        matcher.delete()
        resuggest(workspace.pk)


def resuggest(workspace_id: str) -> int:
    """Brings the suggestions of the workspace's Inbox (unclassified fields) in line with its
    matchers as they now are; the fields whose suggestion changed.

    Keys are matched again. Values are not kept, so a suggestion a value matcher made stays
    while that matcher exists and is stricter than what the keys now call for."""
    usable = matchers_for(workspace_id)
    by_name = {m.name: m for m in usable}
    inbox = Field.objects.filter(workspace_id=workspace_id, classification="").only(
        "pk", "path", "suggested", "suggested_by"
    )
    changed = []
    for field in inbox.iterator(chunk_size=2000):
        now = matchers.suggest(field.path, (), usable)
        made_by = by_name.get(field.suggested_by)
        if made_by is not None and made_by.value is not None:
            now = matchers.stricter(now, matchers.Suggestion(made_by.classification, made_by.name))
        if (now.classification, now.matcher) != (field.suggested, field.suggested_by):
            field.suggested, field.suggested_by = now.classification, now.matcher
            changed.append(field)
    Field.objects.bulk_update(changed, ["suggested", "suggested_by"], batch_size=RESUGGEST_BATCH)
    return len(changed)
