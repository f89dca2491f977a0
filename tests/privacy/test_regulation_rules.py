"""The regulation rules and operations (``privacy.regulations``): each refusal, each type's
effects, how a regulation's status follows its steps, withdrawal, and the audit trail."""

import pytest
from django.urls import reverse

from privacy import regulations
from privacy.models import (
    DeletionStep,
    Regulation,
    RegulationStatus,
    RegulationType,
    Suppression,
)
from privacy.regulations import overall_status
from segapp.models import AuditEntry
from segapp.refusal import Refusal
from tests.factories import make_source, make_workspace

S = RegulationStatus


@pytest.fixture
def app(catalog, workspace):
    return make_source(workspace, "ios", name="App")


def create(workspace, kind, subjects, source=None, actor=None, subject_type="USER_ID"):
    return regulations.create_regulation(
        workspace,
        actor,
        regulation_type=kind,
        subject_ids=subjects,
        subject_type=subject_type,
        source=source,
    )


def refused(workspace, kind, subjects, **kwargs) -> Refusal:
    with pytest.raises(Refusal) as caught:
        create(workspace, kind, subjects, **kwargs)
    assert not Regulation.objects.exists(), "a refused regulation was recorded"
    return caught.value


def suppressed(workspace) -> set[tuple[str, str | None]]:
    return set(Suppression.objects.filter(workspace=workspace).values_list("user_id", "source_id"))


# Refusals.


def test_refuses_an_unknown_regulation_type(workspace):
    refusal = refused(workspace, "FORGET_ME", ["u1"])
    assert (refusal.rule, refusal.field, refusal.status) == (
        "regulation-type",
        "regulationType",
        422,
    )


def test_refuses_object_id_subjects_which_belong_to_cloud_sources(workspace):
    refusal = refused(workspace, "DELETE_ONLY", ["obj_1"], subject_type="OBJECT_ID")
    assert (refusal.rule, refusal.field) == ("regulation-subject-type", "subjectType")
    assert "OBJECT_ID" in refusal.message and "USER_ID" in refusal.message
    assert refused(workspace, "DELETE_ONLY", ["u1"], subject_type="EMAIL").rule == (
        "regulation-subject-type"
    )


@pytest.mark.parametrize(
    "subjects, says",
    [
        ([], "at least one"),
        (["u1", ""], "non-empty"),
        (["   "], "non-empty"),
        (["u1", 7], "non-empty text"),
        (["x" * 256], "255"),
        (["a\x00b"], "NUL"),
        ("u1", "as a list"),
        ([f"u{n}" for n in range(5001)], "At most 5000"),
    ],
)
def test_refuses_bad_subject_ids(workspace, subjects, says):
    refusal = refused(workspace, "SUPPRESS_ONLY", subjects)
    assert (refusal.rule, refusal.field, refusal.status) == (
        "regulation-subjects",
        "subjectIds",
        422,
    )
    assert says in refusal.message


def test_takes_5000_ids_and_keeps_each_once_in_order(workspace):
    ids = [f"u{n}" for n in range(5000)]
    regulation = create(workspace, "SUPPRESS_ONLY", [*ids[:2], ids[0], *ids[2:]][:5000])
    assert regulation.subject_ids == ids[:4999]
    assert Suppression.objects.filter(workspace=workspace).count() == 4999


def test_ids_are_matched_exactly_not_trimmed(workspace):
    regulation = create(workspace, "SUPPRESS_ONLY", [" u1", "u1"])
    assert regulation.subject_ids == [" u1", "u1"]


def test_refuses_a_source_of_another_workspace(catalog, workspace):
    theirs = make_source(make_workspace(name="Other"), "javascript", name="Theirs")
    refusal = refused(workspace, "SUPPRESS_ONLY", ["u1"], source=theirs)
    assert (refusal.rule, refusal.field) == ("regulation-source", "sourceId")


def test_a_source_cannot_unsuppress_a_user_suppressed_workspace_wide(workspace, site):
    create(workspace, "SUPPRESS_ONLY", ["u1", "u2"])
    with pytest.raises(Refusal) as caught:
        create(workspace, "UNSUPPRESS", ["u2", "u3"], source=site)
    assert (caught.value.rule, caught.value.status) == ("unsuppress-scope", 409)
    assert "u2" in caught.value.message and "u1" not in caught.value.message
    assert suppressed(workspace) == {("u1", None), ("u2", None)}


# Effects of each type.


def test_suppress_only_suppresses_at_once_and_is_finished(workspace, site):
    wide = create(workspace, "SUPPRESS_ONLY", ["u1"])
    one = create(workspace, "SUPPRESS_ONLY", ["u2"], source=site)
    assert (wide.status, one.status) == (S.FINISHED, S.FINISHED)
    assert wide.finished_at and one.finished_at
    assert suppressed(workspace) == {("u1", None), ("u2", site.pk)}
    assert not DeletionStep.objects.exists()


def test_suppressing_a_suppressed_user_again_keeps_the_first_regulation(workspace):
    first = create(workspace, "SUPPRESS_ONLY", ["u1"])
    create(workspace, "SUPPRESS_ONLY", ["u1", "u2"])
    assert Suppression.objects.get(user_id="u1").regulation_id == first.pk
    assert suppressed(workspace) == {("u1", None), ("u2", None)}


def test_unsuppress_workspace_wide_lifts_every_suppression_of_the_users(workspace, site, app):
    create(workspace, "SUPPRESS_ONLY", ["u1", "u2"])
    create(workspace, "SUPPRESS_ONLY", ["u1"], source=site)
    create(workspace, "SUPPRESS_ONLY", ["u3"], source=app)
    lifted = create(workspace, "UNSUPPRESS", ["u1", "nobody"])
    assert lifted.status == S.FINISHED
    assert suppressed(workspace) == {("u2", None), ("u3", app.pk)}


def test_unsuppress_in_a_source_lifts_that_source_only(workspace, site, app):
    create(workspace, "SUPPRESS_ONLY", ["u1"], source=site)
    create(workspace, "SUPPRESS_ONLY", ["u1"], source=app)
    create(workspace, "UNSUPPRESS", ["u1"], source=site)
    assert suppressed(workspace) == {("u1", app.pk)}


def test_another_workspace_keeps_its_suppressions(workspace):
    other = make_workspace(name="Other")
    create(other, "SUPPRESS_ONLY", ["u1"])
    create(workspace, "SUPPRESS_ONLY", ["u1"])
    create(workspace, "UNSUPPRESS", ["u1"])
    assert suppressed(other) == {("u1", None)}


@pytest.mark.parametrize(
    "kind, suppresses",
    [("DELETE_ONLY", False), ("SUPPRESS_WITH_DELETE", True), ("DELETE_INTERNAL", False)],
)
def test_a_deleting_regulation_plans_an_archive_step_and_waits(workspace, site, kind, suppresses):
    regulation = create(workspace, kind, ["u1"], source=site)
    assert regulation.status == S.INITIALIZED and regulation.finished_at is None
    steps = list(regulation.steps.values_list("system", "label", "status"))
    assert steps == [("archive", "Event archive", S.INITIALIZED)]
    assert suppressed(workspace) == ({("u1", site.pk)} if suppresses else set())


def test_deletion_only_deletes_what_arrived_before_it_unless_it_suppresses(workspace):
    only = create(workspace, "DELETE_ONLY", ["u1"])
    both = create(workspace, "SUPPRESS_WITH_DELETE", ["u2"])
    assert regulations.deletes_until(only) == only.created_at
    assert regulations.deletes_until(both) is None


def test_a_workspace_regulation_covers_every_source_and_a_source_one_its_own(workspace, site, app):
    wide = create(workspace, "DELETE_ONLY", ["u1"])
    one = create(workspace, "DELETE_ONLY", ["u1"], source=app)
    assert regulations.covered_source_ids(wide) == sorted([site.pk, app.pk])
    assert regulations.covered_source_ids(one) == [app.pk]


# Status.


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([], S.FINISHED),
        ([S.INITIALIZED], S.INITIALIZED),
        ([S.INITIALIZED, S.INITIALIZED], S.INITIALIZED),
        ([S.RUNNING, S.INITIALIZED], S.RUNNING),
        ([S.FINISHED, S.INITIALIZED], S.RUNNING),
        ([S.FINISHED, S.FAILED, S.RUNNING], S.RUNNING),
        ([S.FINISHED, S.FINISHED], S.FINISHED),
        ([S.FINISHED, S.FAILED], S.PARTIAL_SUCCESS),
        ([S.FAILED, S.FAILED], S.FAILED),
        ([S.FAILED], S.FAILED),
        ([S.FINISHED, S.NOT_SUPPORTED], S.FINISHED),
        ([S.NOT_SUPPORTED], S.NOT_SUPPORTED),
    ],
)
def test_overall_status_follows_the_steps(steps, expected):
    assert overall_status(steps) == expected


def test_steps_move_the_regulation_through_its_statuses(workspace, site):
    regulation = create(workspace, "DELETE_ONLY", ["u1"], source=site)
    other = DeletionStep.objects.create(regulation=regulation, system="elsewhere", label="Else")
    archive = regulation.steps.get(system="archive")

    regulations.start_step(archive)
    regulation.refresh_from_db()
    assert (regulation.status, regulation.finished_at) == (S.RUNNING, None)

    regulations.end_step(archive, S.FINISHED)
    regulation.refresh_from_db()
    assert regulation.status == S.RUNNING

    regulations.end_step(other, S.FAILED, "unreachable")
    regulation.refresh_from_db()
    assert regulation.status == S.PARTIAL_SUCCESS and regulation.finished_at is not None
    assert DeletionStep.objects.get(pk=other.pk).error == "unreachable"


# Withdrawal.


def test_a_regulation_not_started_can_be_withdrawn_with_its_suppressions(workspace, owner):
    create(workspace, "SUPPRESS_ONLY", ["u1"])
    regulation = create(workspace, "SUPPRESS_WITH_DELETE", ["u1", "u2"])
    regulations.remove_regulation(regulation, owner)
    assert not Regulation.objects.filter(pk=regulation.pk).exists()
    assert not DeletionStep.objects.exists()
    assert suppressed(workspace) == {("u1", None)}, "the earlier suppression of u1 stays"


def test_a_started_or_finished_regulation_cannot_be_withdrawn(workspace, owner):
    finished = create(workspace, "SUPPRESS_ONLY", ["u1"])
    running = create(workspace, "DELETE_ONLY", ["u2"])
    regulations.start_step(running.steps.get())
    for regulation, status in [(finished, "FINISHED"), (running, "RUNNING")]:
        with pytest.raises(Refusal) as caught:
            regulations.remove_regulation(regulation, owner)
        assert (caught.value.rule, caught.value.status) == ("regulation-not-initialized", 409)
        assert status in caught.value.message
        assert Regulation.objects.filter(pk=regulation.pk).exists()
    assert suppressed(workspace) == {("u1", None)}


# Audit trail.


def test_creating_and_withdrawing_are_on_the_audit_trail(client_as, workspace, owner):
    regulation = create(workspace, "SUPPRESS_WITH_DELETE", ["ada"], actor=owner)
    regulations.remove_regulation(regulation, owner)
    entries = AuditEntry.objects.filter(workspace=workspace, object_type="regulation")
    assert list(entries.order_by("pk").values_list("action", "object_label", "actor_label")) == [
        ("regulation.created", "SUPPRESS_WITH_DELETE of ada", owner.email),
        ("regulation.deleted", "SUPPRESS_WITH_DELETE of ada", owner.email),
    ]
    created = entries.get(action="regulation.created")
    assert created.after == {"regulationType": "SUPPRESS_WITH_DELETE", "subjectType": "USER_ID",
                             "subjectIds": ["ada"], "subjectCount": 1, "sourceId": None}  # fmt: skip
    page = client_as(owner).get(reverse("segapp:audit-trail", args=[workspace.slug]))
    assert page.status_code == 200
    assert "requested a regulation" in page.content.decode()
    assert "withdrew a regulation" in page.content.decode()


def test_the_type_names_are_segments(workspace):
    assert set(RegulationType.values) == {
        "SUPPRESS_ONLY", "UNSUPPRESS", "DELETE_ONLY", "SUPPRESS_WITH_DELETE", "DELETE_INTERNAL",
    }  # fmt: skip
