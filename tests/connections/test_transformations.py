"""Source transformations as configuration: their rules, the version they bump, the console."""

import pytest

from connections import transformations
from connections.models import Source, Transformation
from segapp.models import AuditEntry
from segapp.refusal import Refusal
from tests.factories import make_source


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


RENAME = {"name": "Rename", "target": "track", "event_name": "Order Done",
          "new_event_name": "Order Completed"}  # fmt: skip


@pytest.mark.parametrize(
    "values, field",
    [
        ({**RENAME, "name": " "}, "name"),
        ({**RENAME, "target": "alias"}, "target"),
        (
            {"name": "N", "target": "identify", "event_name": "X", "new_event_name": "Y"},
            "event_name",
        ),
        ({"name": "N", "target": "track", "new_event_name": "Y"}, "event_name"),
        ({"name": "N", "target": "track"}, "renames"),
        ({"name": "N", "target": "track", "renames": {"a": "c", "b": "c"}}, "renames"),
        ({"name": "N", "target": "track", "renames": {"a": ""}}, "renames"),
        ({"name": "N", "target": "track", "renames": {"a": "b"}, "drops": ["a"]}, "drops"),
        ({"name": "N", "target": "track", "drops": "a"}, "drops"),
    ],
)
def test_invalid_transformations_are_refused_naming_the_field(source, values, field):
    with pytest.raises(Refusal) as refused:
        transformations.create_transformation(source, None, values)
    assert refused.value.field == field
    assert not Transformation.objects.exists()


def test_every_change_bumps_the_source_version_and_is_audited(source):
    version = lambda: Source.objects.get(pk=source.pk).config_version  # noqa: E731
    start = version()
    item = transformations.create_transformation(source, None, RENAME)
    item_id = item.pk
    transformations.update_transformation(item, None, {"enabled": False})
    transformations.update_transformation(item, None, {"enabled": False})  # no change
    transformations.delete_transformation(item, None)
    assert version() == start + 3
    actions = list(AuditEntry.objects.filter(object_id=item_id).values_list("action", flat=True))
    assert sorted(actions) == [
        "transformation.created",
        "transformation.deleted",
        "transformation.updated",
    ]


def test_console_manages_a_sources_transformations(
    source, workspace, owner, client_as, read_only_user
):
    client = client_as(owner)
    url = f"/w/{workspace.slug}/sources/{source.pk}/transformations/"
    assert (
        "Transformations"
        in client.get(f"/w/{workspace.slug}/sources/{source.pk}/").content.decode()
    )
    refused = client.post(url, {"name": "Bad", "target": "track", "renames": "price"})
    assert "old -&gt; new" in refused.content.decode()
    response = client.post(url, {"name": "Money", "target": "track", "event_name": "Order Done",
                                 "new_event_name": "Order Completed", "renames": "amt -> revenue\nqty->quantity",
                                 "drops": "debug", "enabled": "on"})  # fmt: skip
    assert response.status_code == 302
    item = source.transformations.get()
    assert item.renames == {"amt": "revenue", "qty": "quantity"} and item.drops == ["debug"]
    page = client.get(url).content.decode()
    assert "Money" in page and "Order Completed" in page
    edit = client.post(url + f"{item.pk}/", {"name": "Money", "target": "track", "event_name": "Order Done",
                                             "new_event_name": "Purchase", "enabled": "on"})  # fmt: skip
    assert edit.status_code == 302
    item.refresh_from_db()
    assert item.new_event_name == "Purchase" and item.renames == {}
    assert client_as(read_only_user).post(url + f"{item.pk}/delete/").status_code == 403
    client.post(url + f"{item.pk}/delete/")
    assert not source.transformations.exists()
