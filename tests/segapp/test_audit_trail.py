"""The audit trail page: real operations' entries with who, what, when and a readable diff;
filters; keyset pages; only the workspace's own entries; queries that do not grow with the trail."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import SourceMetadata
from connections import filters, instances, sources
from connections.models import MASK
from connections.transformations import create_transformation
from segapp import audit_trail
from segapp.models import AuditEntry, Membership
from tests.factories import make_instance, make_token, make_workspace

SECRET = "audit-secret-41c9"
FIRST_SECRET = "first-secret-0d2e"


def trail_url(workspace, **params):
    return reverse("segapp:audit-trail", args=[workspace.slug]), params


def rows(client, workspace, **params):
    url, params = trail_url(workspace, **params)
    response = client.get(url, params)
    assert response.status_code == 200
    return response, response.context["page"].rows


@pytest.fixture
def history(catalog, workspace, owner, member_user):
    """A source and a Webhooks instance changed by the owner, then a filter by a member."""
    javascript = SourceMetadata.objects.get(slug="javascript")
    source = sources.create_source(workspace, javascript, owner, name="Website")
    instance = make_instance(
        source, "webhooks", name="Orders", settings={"sharedSecret": FIRST_SECRET}
    )
    instances.rename_instance(instance, "Orders hook", owner)
    instances.set_enabled(instance, True, owner)
    instances.update_settings(
        instance, {"webhookUrls": ["http://127.0.0.1:9/new"], "sharedSecret": SECRET}, owner
    )
    filters.create_filter(
        instance,
        member_user,
        title="Drop tests",
        condition='event = "Test"',
        actions=[{"type": "DROP"}],
    )
    return source, instance


def test_real_changes_appear_newest_first_with_who_what_and_diffs(
    history, workspace, owner, member_user, client_as
):
    _, instance = history
    response, found = rows(client_as(owner), workspace)
    html = response.content.decode()
    assert [r.action for r in found[:6]] == [
        "created filter",
        "changed settings",
        "enabled destination",
        "renamed destination",
        "created destination",
        "created source",
    ]
    assert [r.entry.actor_label for r in found[:6]] == [
        member_user.email,
        owner.email,
        owner.email,
        owner.email,
        "system",
        owner.email,
    ]
    renamed = found[3]
    assert (renamed.object_type, renamed.entry.object_label) == ("Destination", "Orders hook")
    assert [(c.key, c.old, c.new) for c in renamed.changes] == [("name", "Orders", "Orders hook")]
    settings = found[1]
    assert [(c.key, c.old, c.new) for c in settings.changes] == [
        ("settings.webhookUrls", '["http://127.0.0.1:9/hook"]', '["http://127.0.0.1:9/new"]')
    ]
    created = found[4]
    assert ("settings.sharedSecret", None, MASK) in [(c.key, c.old, c.new) for c in created.changes]
    assert "<del>Orders</del> → <ins>Orders hook</ins>" in html
    assert SECRET not in html and FIRST_SECRET not in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', html)
    instance_url = reverse("connections:instance-detail", args=[workspace.slug, instance.pk])
    assert f'<a href="{instance_url}">Orders hook</a>' in html


def test_an_entry_whose_object_is_gone_is_not_linked(history, workspace, owner, client_as):
    _, instance = history
    instances.delete_instance(instance, owner)
    response, found = rows(client_as(owner), workspace, object_type="destinationinstance")
    assert found[0].action == "deleted destination"
    assert {r.url for r in found} == {None}
    assert "/destinations/" not in response.content.decode().split("<tbody>")[1]


def test_secret_only_changes_say_so_without_values(history, workspace, owner, client_as):
    _, instance = history
    instances.update_settings(instance, {"sharedSecret": "another-secret-77"}, owner, merge=True)
    response, found = rows(client_as(owner), workspace)
    assert found[0].action == "changed settings" and found[0].changes == []
    html = response.content.decode()
    assert "Secret values changed" in html and "another-secret-77" not in html


def test_each_filter_narrows_the_list(history, workspace, owner, member_user, client_as):
    source, instance = history
    token, _ = make_token(workspace)
    sources.update_source(source, token, name="Web")
    client = client_as(owner)

    def actions(**params):
        return [r.entry.action for r in rows(client, workspace, **params)[1]]

    assert actions(object_type="destinationfilter") == ["filter.created"]
    assert actions(object_type="source", object=source.pk) == ["source.updated", "source.created"]
    assert actions(object=instance.pk) == [
        "instance.settings_changed",
        "instance.enabled",
        "instance.renamed",
        "instance.created",
    ]
    assert actions(actor=member_user.email) == ["filter.created"]
    assert actions(actor="API token “test token”") == ["source.updated"]
    assert actions(action="instance.enabled") == ["instance.enabled"]
    assert actions(actor=owner.email, action="instance.renamed") == ["instance.renamed"]
    assert actions(actor="nobody@example.com") == []
    page = client.get(*trail_url(workspace, actor="nobody@example.com")).content.decode()
    assert "No changes match these filters." in page
    assert '<option value="nobody@example.com" selected>' in page  # the filter stays visible


def test_rows_link_to_each_actors_and_objects_changes(history, workspace, owner, client_as):
    _, instance = history
    html = client_as(owner).get(*trail_url(workspace, action="instance.enabled")).content.decode()
    assert f"?object_type=destinationinstance&amp;object={instance.pk}" in html
    assert "?action=instance.enabled&amp;actor=owner%40example.com" in html


def test_htmx_filter_changes_get_only_the_rows(history, workspace, owner, client_as):
    url, _ = trail_url(workspace)
    response = client_as(owner).get(
        url, {"action": "filter.created"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-rows"
    )
    html = response.content.decode()
    assert "<html" not in html and "Drop tests" in html and "Orders hook" not in html


def spread(workspace, count: int, start=None, same_time_every: int = 1):
    """``count`` entries, one a minute (``same_time_every`` share each timestamp), oldest first."""
    start = start or timezone.now() - timedelta(days=30)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            workspace=workspace,
            actor_label="script@example.com",
            action="source.updated",
            object_type="source",
            object_id=f"s{n}",
            object_label=f"Source {n}",
            before={"name": f"Source {n - 1}"},
            after={"name": f"Source {n}"},
            created_at=start + timedelta(minutes=n // same_time_every),
        )
        for n in range(count)
    )


def test_pages_walk_the_whole_trail_once_in_order(workspace, owner, client_as):
    AuditEntry.objects.all().delete()
    spread(workspace, 120, same_time_every=7)  # ties on created_at are ordered by id
    client = client_as(owner)
    expected = list(AuditEntry.objects.filter(workspace=workspace).values_list("pk", flat=True))
    seen, pages, query = [], [], ""
    url, _ = trail_url(workspace)
    while True:
        response = client.get(f"{url}?{query}")
        page = response.context["page"]
        pages.append(page)
        seen += [r.entry.pk for r in page.rows]
        if not page.older:
            break
        query = page.older
    assert [len(p.rows) for p in pages] == [50, 50, 20]
    assert seen == expected
    assert not pages[0].newer and pages[1].newer and pages[2].newer
    back = client.get(f"{url}?{pages[2].newer}").context["page"]
    assert [r.entry.pk for r in back.rows] == [r.entry.pk for r in pages[1].rows]
    assert back.older and back.newer
    first = client.get(f"{url}?{back.newer}").context["page"]
    assert [r.entry.pk for r in first.rows] == expected[:50] and not first.newer
    assert "Older →" not in response.content.decode()  # the last page
    assert "Older →" in client.get(url).content.decode()


def test_pages_keep_their_filters(workspace, owner, client_as):
    spread(workspace, 60)
    older = client_as(owner).get(*trail_url(workspace, actor="script@example.com"))
    assert "actor=script%40example.com" in older.context["page"].older


def test_another_workspaces_entries_never_appear(history, workspace, owner, client_as):
    _, instance = history
    other = make_workspace(name="Elsewhere")
    spread(other, 5)
    AuditEntry.objects.create(
        workspace=other,
        actor_label=owner.email,
        action="instance.renamed",
        object_type="destinationinstance",
        object_id=instance.pk,
        object_label="Leaked",
    )
    client = client_as(owner)
    for params in ({}, {"object": instance.pk}, {"actor": "script@example.com"}):
        response, found = rows(client, workspace, **params)
        assert {r.entry.workspace_id for r in found} <= {workspace.pk}
        assert "Leaked" not in response.content.decode()
    assert rows(client, workspace, actor="script@example.com")[1] == []


def test_read_only_members_see_the_trail_and_it_is_in_the_navigation(
    history, workspace, read_only_user, client_as
):
    response, found = rows(client_as(read_only_user), workspace)
    assert (
        found
        and reverse("segapp:audit-trail", args=[workspace.slug])
        in (response.content.decode().split("</nav>")[0])
    )


def one_of_every_kind(workspace, owner) -> list:
    """An existing object of every type the trail links to."""
    javascript = SourceMetadata.objects.get(slug="javascript")
    source = sources.create_source(workspace, javascript, owner, name="Website")
    instance = make_instance(source, "webhooks", name="Orders")
    item = filters.create_filter(
        instance, owner, title="t", condition='event = "x"', actions=[{"type": "DROP"}]
    )
    transformation = create_transformation(
        source, owner, {"name": "r", "target": "track", "drops": ["x"]}
    )
    token, _ = make_token(workspace)
    membership = Membership.objects.get(workspace=workspace)
    return [source, instance, item, transformation, token, workspace, membership]


def fill(workspace, objects, count: int) -> None:
    """Exactly ``count`` entries, cycling through ``objects``."""
    AuditEntry.objects.all().delete()
    AuditEntry.objects.bulk_create(
        AuditEntry(
            workspace=workspace,
            actor_label="script@example.com",
            action="source.updated",
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            object_label=str(obj),
            before={"name": "a", "settings": {"k": 1}},
            after={"name": "b", "settings": {"k": 2}},
        )
        for n in range(count)
        for obj in [objects[n % len(objects)]]
    )


def test_queries_do_not_grow_with_the_trail(
    catalog, workspace, owner, client_as, django_assert_num_queries
):
    client = client_as(owner)
    url, _ = trail_url(workspace)
    objects = one_of_every_kind(workspace, owner)
    fill(workspace, objects, 10)
    client.get(url)  # the first visit writes the session
    # 1 session, 2 user, 3 membership + workspace, 4 the page of entries, 5-10 one link query
    # for each of sources, instances, filters, transformations, members and tokens on the page
    # (the workspace's own link needs none), 11-12 the filter controls' members and tokens,
    # 13 the sidebar's workspaces.
    with django_assert_num_queries(13):
        assert len(client.get(url).context["page"].rows) == 10
    fill(workspace, objects, 500)
    with django_assert_num_queries(13):
        assert len(client.get(url).context["page"].rows) == audit_trail.PAGE_SIZE
    older = client.get(url).context["page"].older
    with django_assert_num_queries(13):
        assert client.get(f"{url}?{older}").status_code == 200
