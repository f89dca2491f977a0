"""Destination filters as configuration: the limit, FQL parsed at save with the error's position,
valid actions, order, and the configuration version every change bumps; the console pages."""

import pytest

from connections import filters
from connections.models import DestinationFilter, Source
from segapp.jsondepth import MAX_DEPTH
from segapp.models import AuditEntry
from segapp.refusal import Refusal
from tests.delivery.conftest import NESTED, with_nesting
from tests.factories import make_instance, make_source

DROP = [{"type": "DROP"}]


@pytest.fixture
def instance(catalog, workspace):
    return make_instance(make_source(workspace, "javascript"), "webhooks", name="Hook")


def version(instance) -> int:
    return Source.objects.get(pk=instance.source_id).config_version


def add(instance, title="F", condition='event = "A"', actions=DROP, **kwargs):
    return filters.create_filter(
        instance, None, title=title, condition=condition, actions=actions, **kwargs
    )


def test_a_filter_is_saved_with_its_parsed_condition_and_bumps_the_version(instance):
    before = version(instance)
    item = add(instance, condition="  properties.total > 100  ")
    assert item.condition == "properties.total > 100"
    assert item.condition_ast and item.condition_ast != "all"
    assert version(instance) == before + 1
    assert AuditEntry.objects.filter(action="filter.created", object_id=item.pk).exists()


def test_an_invalid_expression_is_refused_at_save_pointing_at_the_error(instance):
    with pytest.raises(Refusal) as refused:
        add(instance, condition='event = "A" and properties.total >')
    assert refused.value.field == "if" and refused.value.rule == "filter-fql"
    assert "position" in refused.value.message and "^" in refused.value.message
    assert not DestinationFilter.objects.exists()


@pytest.mark.parametrize(
    "actions",
    [[], [{"type": "EXPLODE"}], [{"type": "SAMPLE", "percent": 1.5}],
     [{"type": "DROP_PROPERTIES", "fields": {"body": ["x"]}}]],
)  # fmt: skip
def test_invalid_actions_are_refused(instance, actions):
    with pytest.raises(Refusal) as refused:
        add(instance, actions=actions)
    assert refused.value.field == "actions"


def test_at_most_ten_filters_per_instance_on_every_plan(instance):
    for n in range(filters.MAX_FILTERS_PER_INSTANCE):
        add(instance, title=f"F{n}")
    with pytest.raises(Refusal) as refused:
        add(instance, title="One too many")
    assert refused.value.rule == "filter-limit" and refused.value.status == 409
    assert DestinationFilter.objects.filter(instance=instance).count() == 10


def test_update_keeps_what_is_not_given_and_refuses_a_broken_condition(instance):
    item = add(instance)
    filters.update_filter(item, None, title="Renamed", enabled=False)
    item.refresh_from_db()
    assert (item.title, item.enabled, item.condition) == ("Renamed", False, 'event = "A"')
    with pytest.raises(Refusal):
        filters.update_filter(item, None, condition="event = = 1")
    item.refresh_from_db()
    assert item.condition == 'event = "A"'


def test_reorder_moves_a_filter_and_bumps_the_version(instance):
    *_, c = (add(instance, title=t) for t in "ABC")
    before = version(instance)
    filters.move_filter(c, None, -2)
    assert [f.title for f in instance.filters.all()] == ["C", "A", "B"]
    filters.move_filter(instance.filters.get(title="C"), None, -1)  # already first
    assert [f.title for f in instance.filters.all()] == ["C", "A", "B"]
    assert version(instance) == before + 1
    filters.delete_filter(instance.filters.get(title="A"), None)
    assert [f.title for f in instance.filters.all()] == ["C", "B"]


def test_console_adds_edits_toggles_reorders_and_deletes_filters(
    instance, workspace, owner, client_as
):
    client = client_as(owner)
    base = f"/w/{workspace.slug}/destinations/{instance.pk}/"
    form = {"title": "Big orders", "condition": "properties.total >= 100", "drop_fields": "context.ip\nproperties.coupon",
            "enabled": "on"}  # fmt: skip
    response = client.post(base + "filters/new/", form)
    assert response.status_code == 302
    item = instance.filters.get()
    assert item.actions == [
        {"type": "DROP_PROPERTIES", "fields": {"context": ["ip"], "properties": ["coupon"]}}
    ]
    page = client.get(base).content.decode()
    assert "Big orders" in page and "properties.total &gt;= 100" in page
    assert "drop context.ip, properties.coupon" in page

    broken = client.post(base + f"filters/{item.pk}/", {**form, "condition": "properties.total >="})
    assert broken.status_code == 200 and "position" in broken.content.decode()
    item.refresh_from_db()
    assert item.condition == "properties.total >= 100"

    client.post(base + "filters/new/", {"title": "Sample", "condition": "all", "sample_percent": "25",
                                        "sample_path": "userId", "enabled": "on"})  # fmt: skip
    sample = instance.filters.get(title="Sample")
    assert sample.actions == [{"type": "SAMPLE", "percent": 0.25, "path": "userId"}]
    assert "sample 25% by userId" in client.get(base).content.decode()
    fragment = client.post(
        base + f"filters/{sample.pk}/move/", {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200 and 'id="instance-filters"' in fragment.content.decode()
    assert [f.title for f in instance.filters.all()] == ["Sample", "Big orders"]
    client.post(base + f"filters/{sample.pk}/toggle/", {"enabled": "false"})
    assert not instance.filters.get(title="Sample").enabled
    client.post(base + f"filters/{sample.pk}/delete/")
    assert [f.title for f in instance.filters.all()] == ["Big orders"]


def test_console_preview_runs_the_typed_filter_against_the_sample(
    instance, workspace, owner, client_as
):
    client = client_as(owner)
    url = f"/w/{workspace.slug}/destinations/{instance.pk}/filter-preview/"
    event = (
        '{"type": "track", "event": "A", "userId": "u", "properties": {"total": 5, "coupon": "X"}}'
    )
    form = {
        "title": "T",
        "condition": 'event = "A"',
        "drop_fields": "properties.coupon",
        "sample_event": event,
    }
    shown = client.post(url, form).content.decode()
    assert "&quot;total&quot;: 5" in shown and "coupon" not in shown
    dropped = client.post(url, {**form, "drop": "on"}).content.decode()
    assert "Not sent" in dropped
    unmatched = client.post(url, {**form, "condition": 'event = "B"'}).content.decode()
    assert "does not match" in unmatched
    broken = client.post(url, {**form, "condition": "event = "}).content.decode()
    assert "position" in broken
    assert not instance.filters.exists()


def test_console_preview_refuses_a_sample_nested_too_deep(instance, workspace, owner, client_as):
    url = f"/w/{workspace.slug}/destinations/{instance.pk}/filter-preview/"
    event = {"type": "track", "event": "A", "userId": "u", "properties": NESTED}
    form = {"title": "T", "condition": 'event = "A"', "drop_fields": "properties.x"}
    for levels in (MAX_DEPTH, 300):
        form["sample_event"] = with_nesting(event, levels).decode()
        response = client_as(owner).post(url, form)
        assert response.status_code == 200
        assert f"nests deeper than {MAX_DEPTH} levels" in response.content.decode()
