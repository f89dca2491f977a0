"""Classifying fields: Inbox → Inventory and back, one at a time or several, each change audited
and making routing rebuild (every source's ``config_version``); refusals change nothing; and a
custom matcher's change brings the Inbox's suggestions along, never a classification."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from connections.models import Source
from privacy import custom_matchers, discovery, inventory
from privacy.models import Field, Matcher
from segapp.models import AuditEntry, User
from segapp.refusal import Refusal
from tests.factories import make_source, make_workspace

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def discover(workspace, source, *messages) -> dict[str, Field]:
    """Fields as discovery records them from these messages."""
    tally = discovery.Tally()
    for message in messages:
        tally.add(workspace.pk, source.pk, message, NOW)
    discovery.record(workspace.pk, tally.seen(workspace.pk), tally.values(workspace.pk))
    return {f.path: f for f in Field.objects.filter(workspace=workspace)}


@pytest.fixture
def sources(catalog, workspace):
    return [make_source(workspace, "javascript", name="Website"),
            make_source(workspace, "http-api", name="Backend")]  # fmt: skip


@pytest.fixture
def fields(workspace, sources):
    identify = {
        "type": "identify",
        "traits": {"email": "jane@example.com", "ssn": "078-05-1120", "plan": "pro"},
    }
    return discover(workspace, sources[0], identify)


def versions(workspace) -> list[int]:
    sources = Source.objects.filter(workspace=workspace).order_by("pk")
    return list(sources.values_list("config_version", flat=True))


def test_add_to_inventory_accepts_the_suggestion_audits_and_bumps_every_source(
    workspace, owner, fields
):
    before = versions(workspace)
    email, plan = fields["traits.email"], fields["traits.plan"]
    changes = inventory.add_to_inventory(workspace, owner, [email.pk, plan.pk])
    assert {(c.field.path, c.after) for c in changes} == {
        ("traits.email", "yellow"),
        ("traits.plan", "green"),  # no matcher matched: Green
    }
    email.refresh_from_db()
    assert email.classification == "yellow" and email.classified_by == owner
    assert email.classified_at is not None
    assert versions(workspace) == [v + 1 for v in before]
    entries = AuditEntry.objects.filter(action="privacy.field_classified").order_by("object_label")
    assert [(e.object_label, e.after["classification"]) for e in entries] == [
        ("traits.email", "yellow"),
        ("traits.plan", "green"),
    ]
    assert entries[0].before == {"classification": "unclassified"}


def test_classify_sets_the_chosen_colour_over_the_suggestion(workspace, owner, fields):
    inventory.classify(workspace, owner, [fields["traits.ssn"].pk], "yellow")
    assert Field.objects.get(path="traits.ssn").classification == "yellow"


def test_return_to_inbox_clears_the_classification(workspace, owner, fields):
    email = fields["traits.email"]
    inventory.classify(workspace, owner, [email.pk], "red")
    before = versions(workspace)
    inventory.return_to_inbox(workspace, owner, [email.pk])
    email.refresh_from_db()
    assert (email.classification, email.classified_at, email.classified_by) == ("", None, None)
    assert versions(workspace) == [v + 1 for v in before]
    entry = AuditEntry.objects.get(action="privacy.field_returned_to_inbox")
    assert entry.before == {"classification": "red"}
    assert entry.after == {"classification": "unclassified"}


def test_bulk_classification_changes_only_what_differs(workspace, owner, fields):
    ids = [f.pk for f in fields.values()]
    inventory.classify(workspace, owner, ids[:1], "red")
    before, audited = versions(workspace), AuditEntry.objects.count()
    changes = inventory.classify(workspace, owner, ids, "red")
    assert len(changes) == len(ids) - 1
    assert set(Field.objects.values_list("classification", flat=True)) == {"red"}
    assert AuditEntry.objects.count() == audited + len(ids) - 1
    assert versions(workspace) == [v + 1 for v in before]
    # Nothing left to change: no audit entry, no new version for routing.
    assert inventory.classify(workspace, owner, ids, "red") == []
    assert versions(workspace) == [v + 1 for v in before]


@pytest.mark.parametrize(
    ("ids", "classification", "rule"),
    [
        ("all", "purple", "classification"),
        ("all", "", "classification"),
        ([], "red", "fields_selected"),
        (list(range(1, inventory.MAX_BULK + 2)), "red", "fields_selected"),
    ],
)
def test_refusals_change_nothing(workspace, owner, fields, ids, classification, rule):
    ids = [f.pk for f in fields.values()] if ids == "all" else ids
    before = versions(workspace)
    with pytest.raises(Refusal) as refused:
        inventory.classify(workspace, owner, ids, classification)
    assert refused.value.rule == rule
    assert not Field.objects.exclude(classification="").exists()
    assert (
        versions(workspace) == before
        and not AuditEntry.objects.filter(action__startswith="privacy.field").exists()
    )


def test_another_workspaces_fields_are_left_alone(workspace, owner, fields, catalog):
    other = make_workspace(name="Other")
    theirs = discover(other, make_source(other, "javascript"), {"type": "identify", "traits": {"email": "x"}})  # fmt: skip
    assert inventory.classify(workspace, owner, [theirs["traits.email"].pk], "red") == []
    assert Field.objects.get(pk=theirs["traits.email"].pk).classification == ""


def test_a_new_key_matcher_resuggests_the_inbox_but_not_the_inventory(workspace, owner, fields):
    inventory.classify(workspace, owner, [fields["traits.email"].pk], "green")
    custom_matchers.create_matcher(
        workspace, owner, name="Plan", classification="red", match_on="key", pattern="plan, email"
    )
    plan, email = Field.objects.get(path="traits.plan"), Field.objects.get(path="traits.email")
    assert (plan.suggested, plan.suggested_by) == ("red", "Plan")
    assert (email.classification, email.suggested, email.suggested_by) == ("green", "yellow", "email")  # fmt: skip
    custom_matchers.delete_matcher(workspace_matcher(workspace, "Plan"), owner)
    plan.refresh_from_db()
    assert (plan.suggested, plan.suggested_by) == ("green", "")


def test_a_value_matchers_suggestion_stays_while_the_matcher_does(workspace, owner, sources):
    matcher = custom_matchers.create_matcher(
        workspace, owner, name="Member no", classification="red", match_on="value",
        pattern=r"^M-\d{6}$",
    )  # fmt: skip
    found = discover(workspace, sources[0], {"type": "track", "event": "E", "properties": {"ref": "M-123456"}})  # fmt: skip
    assert found["properties.ref"].suggested_by == "Member no"
    custom_matchers.create_matcher(
        workspace, owner, name="Other", classification="yellow", match_on="key", pattern="nothing"
    )
    assert Field.objects.get(path="properties.ref").suggested_by == "Member no"
    custom_matchers.delete_matcher(matcher, owner)
    ref = Field.objects.get(path="properties.ref")
    assert (ref.suggested, ref.suggested_by) == ("green", "")


def workspace_matcher(workspace, name):
    return Matcher.objects.select_related("workspace").get(workspace=workspace, name=name)


# Django admin: the same operations and rules.


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_superuser("support@example.com", "pw"))
    return client


def test_admin_classifies_through_the_inventory_rules(staff_client, workspace, sources):
    field = Field.objects.create(workspace=workspace, path="traits.email", suggested="yellow")
    before = versions(workspace)
    change = reverse("admin:privacy_field_change", args=[field.pk])
    form = {"classification": "red", "sightings-TOTAL_FORMS": 0, "sightings-INITIAL_FORMS": 0}
    assert staff_client.post(change, form).status_code == 302
    field.refresh_from_db()
    assert field.classification == "red" and field.classified_by.email == "support@example.com"
    assert versions(workspace) == [v + 1 for v in before]
    assert AuditEntry.objects.get(action="privacy.field_classified").actor_label == "support@example.com"  # fmt: skip
    listing = staff_client.get(reverse("admin:privacy_field_changelist"), {"q": "traits.em"})
    assert "traits.email" in listing.content.decode()


def test_admin_refuses_a_bad_matcher_with_the_rules_message(staff_client, workspace):
    add = reverse("admin:privacy_matcher_add")
    form = {"workspace": workspace.pk, "name": "Member", "classification": "red",
            "match_on": "value", "pattern": "(a+)+"}  # fmt: skip
    page = staff_client.post(add, form).content.decode()
    assert "A repeated group holds another repetition" in page
    assert not Matcher.objects.exists()
    response = staff_client.post(add, {**form, "pattern": r"^M-\d{6}$"})
    assert response.status_code == 302
    assert Matcher.objects.get().name == "Member"
    assert AuditEntry.objects.filter(action="privacy.matcher_created").count() == 1
