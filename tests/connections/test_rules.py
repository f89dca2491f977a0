"""Every multi-instance rule (DESIGN §2) for every source kind, through the real operations."""

import pytest

from catalog.models import MAX_CLOUD_INSTANCES_PER_SOURCE
from connections import instances
from connections.models import DestinationInstance
from segapp.refusal import Refusal
from tests.factories import make_instance, make_source

SOURCE_OF_KIND = {"web": "javascript", "mobile": "ios", "server": "python", "project": "project"}


@pytest.fixture
def source_of(catalog, workspace):
    return lambda kind: make_source(workspace, SOURCE_OF_KIND[kind])


def fill(source, slug, count):
    return [make_instance(source, slug, name=f"{slug} {i}") for i in range(count)]


def refused(rule, source, slug, **kwargs):
    with pytest.raises(Refusal) as caught:
        make_instance(source, slug, **kwargs)
    assert caught.value.rule == rule, caught.value.message
    return caught.value


@pytest.mark.parametrize("kind", ["web", "mobile", "server", "project"])
def test_cloud_only_destination_allows_25_and_refuses_the_26th(source_of, kind):
    source = source_of(kind)
    fill(source, "webhooks", MAX_CLOUD_INSTANCES_PER_SOURCE)
    refusal = refused("cloud-instance-limit", source, "webhooks", name="one too many")
    assert "at most 25" in refusal.message and refusal.status == 409
    assert DestinationInstance.objects.filter(source=source).count() == 25


@pytest.mark.parametrize("kind", ["web", "server"])
def test_hybrid_destination_allows_25_cloud_instances_on_web_and_server(source_of, kind):
    source = source_of(kind)
    fill(source, "amplitude", MAX_CLOUD_INSTANCES_PER_SOURCE)
    refused("cloud-instance-limit", source, "amplitude")


@pytest.mark.parametrize("kind", ["mobile", "project"])
def test_hybrid_destination_is_single_on_mobile_and_project(source_of, kind):
    source = source_of(kind)
    make_instance(source, "amplitude")
    assert (
        "cloud mode only"
        in refused("mobile-hybrid-single", source, "amplitude", name="Second").message
    )


@pytest.mark.parametrize("kind", ["mobile", "project"])
def test_cloud_only_destination_is_multi_on_mobile_and_project(source_of, kind):
    source = source_of(kind)
    assert len(fill(source, "webhooks", 3)) == 3


def test_second_device_mode_instance_is_refused_on_a_web_source(source_of):
    source = source_of("web")
    first, second = fill(source, "amplitude", 2)
    first = instances.set_mode(first, "device", None)
    with pytest.raises(Refusal) as caught:
        instances.set_mode(second, "device", None)
    assert caught.value.rule == "one-device-instance"
    second.refresh_from_db()
    assert (first.mode, second.mode) == ("device", "cloud")
    # ...in addition to its cloud-mode instances: more cloud instances are still allowed
    make_instance(source, "amplitude", name="Third")


@pytest.mark.parametrize("kind", ["server"])
def test_server_sources_run_cloud_mode_only(source_of, kind):
    source = source_of(kind)
    instance = make_instance(source, "amplitude")
    with pytest.raises(Refusal) as caught:
        instances.set_mode(instance, "device", None)
    assert caught.value.rule == "device-mode-unavailable"
    refused("device-mode-unavailable", source, "hotjar")


@pytest.mark.parametrize("kind", ["web", "mobile"])
def test_device_only_destination_has_one_instance_per_source(source_of, kind):
    source = source_of(kind)
    instance = make_instance(source, "hotjar")
    assert instance.mode == "device"
    refused("device-only-single", source, "hotjar", name="Hotjar again")


@pytest.mark.parametrize(("kind", "allowed"), [("web", True), ("server", True), ("mobile", False)])
def test_amplitude_actions_is_multi_on_web_and_server_not_mobile(source_of, kind, allowed):
    source = source_of(kind)
    make_instance(source, "actions-amplitude")
    if allowed:
        make_instance(source, "actions-amplitude", name="Amplitude EU")
    else:
        refused("single-instance", source, "actions-amplitude", name="Amplitude EU")


@pytest.mark.parametrize("kind", ["web", "mobile", "server", "project"])
def test_braze_cloud_actions_is_never_multi_instance(source_of, kind):
    source = source_of(kind)
    make_instance(source, "actions-braze-cloud")
    refused("single-instance", source, "actions-braze-cloud", name="Braze 2")


@pytest.mark.parametrize("kind", ["web", "server"])
def test_one_data_lake_per_source(source_of, kind):
    source = source_of(kind)
    make_instance(source, "data-lakes")
    refused("data-lake-single", source, "data-lakes", name="Lake 2")


def test_new_instances_start_disabled_in_cloud_mode_named_after_the_destination(source_of):
    source = source_of("web")
    first = make_instance(source, "amplitude")
    second = make_instance(source, "amplitude")
    assert (first.name, second.name) == ("Amplitude", "Amplitude 2")
    assert (first.enabled, first.mode) == (False, "cloud")


def test_duplicate_name_is_refused_and_rename_to_a_free_name_is_allowed(source_of):
    source = source_of("web")
    first = make_instance(source, "webhooks", name="Orders")
    second = make_instance(source, "webhooks", name="Signups")
    refused("instance-name-unique", source, "webhooks", name="orders")
    with pytest.raises(Refusal) as caught:
        instances.rename_instance(second, "ORDERS", None)
    assert caught.value.rule == "instance-name-unique" and caught.value.field == "name"
    assert instances.rename_instance(second, "Sign-ups EU", None).name == "Sign-ups EU"
    assert (
        instances.rename_instance(first, "orders", None).name == "orders"
    )  # its own name, recased


def test_same_name_on_another_source_is_fine(source_of):
    make_instance(source_of("web"), "webhooks", name="Orders")
    make_instance(source_of("server"), "webhooks", name="Orders")


def test_warehouses_are_not_destination_instances(catalog, workspace):
    """A warehouse belongs to the workspace and loads the sources connected to it; its plan
    rule is tested with the warehouses (tests/warehouses/test_rules.py)."""
    source = make_source(workspace, "javascript")
    assert (
        "Catalog → Warehouses" in refused("warehouse-not-an-instance", source, "postgres").message
    )


def test_object_cloud_source_sends_to_warehouses_only(catalog, workspace):
    stripe = make_source(workspace, "stripe")
    refused("object-source-warehouses-only", stripe, "webhooks")
