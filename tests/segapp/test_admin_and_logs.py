"""Support staff's admin goes through the same rules; logs never carry a token."""

import logging

import pytest
from django.urls import reverse

from segapp.models import AuditEntry, Membership, Role, User


@pytest.fixture
def staff_client(client, db):
    staff = User.objects.create_superuser("support@example.com", "pw")
    client.force_login(staff)
    return client


def test_admin_cannot_demote_the_last_owner(staff_client, workspace, owner):
    membership = Membership.objects.get(user=owner)
    url = reverse("admin:segapp_membership_change", args=[membership.pk])
    response = staff_client.post(url, {"role": "read_only"}, follow=True)
    assert "at least one owner" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_admin_plan_change_is_audited(staff_client, workspace, owner):
    url = reverse("admin:segapp_workspace_change", args=[workspace.pk])
    membership = Membership.objects.get(user=owner)
    inline = {
        "memberships-TOTAL_FORMS": 1,
        "memberships-INITIAL_FORMS": 1,
        "memberships-0-id": membership.pk,
        "memberships-0-workspace": workspace.pk,
    }
    response = staff_client.post(url, {"name": "Acme", "plan": "business", **inline})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.plan == "business"
    entry = AuditEntry.objects.get(action="workspace.updated")
    assert (entry.actor_label, entry.before["plan"], entry.after["plan"]) == (
        "support@example.com",
        "free",
        "business",
    )


def test_admin_lists_are_searchable_and_never_show_a_token(staff_client, workspace, api_token):
    token, raw = api_token
    for model in ["workspace", "membership", "apitoken", "auditentry", "user"]:
        response = staff_client.get(reverse(f"admin:segapp_{model}_changelist"), {"q": "acme"})
        assert response.status_code == 200, model
        assert raw not in response.content.decode()
    detail = staff_client.get(
        reverse("admin:segapp_apitoken_change", args=[token.pk])
    ).content.decode()
    assert token.token_hash in detail and raw not in detail


def test_one_json_line_per_request_without_the_token(client, api_token, caplog):
    _, raw = api_token
    with caplog.at_level(logging.INFO, logger="segapp.request"):
        client.get("/api/?secret=abc", headers={"Authorization": f"Bearer {raw}"})
    records = [r for r in caplog.records if r.name == "segapp.request"]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.path, record.status) == ("GET", "/api/", 200)
    assert raw not in caplog.text and "secret=abc" not in caplog.text


def test_catalog_admin_is_searchable_and_read_only(staff_client, catalog):
    from catalog.models import DestinationMetadata

    response = staff_client.get(
        reverse("admin:catalog_destinationmetadata_changelist"),
        {"q": "amplitude", "kind": "destination"},
    )
    assert response.status_code == 200 and "Amplitude (Actions)" in response.content.decode()
    entry = DestinationMetadata.objects.get(slug="webhooks")
    url = reverse("admin:catalog_destinationmetadata_change", args=[entry.pk])
    assert staff_client.post(url, {"name": "Renamed"}).status_code == 403


def test_instance_admin_masks_secrets_and_applies_the_rules(staff_client, catalog, workspace):
    from connections.models import DestinationInstance
    from tests.factories import make_instance, make_source

    source = make_source(workspace)
    device = make_instance(source, "amplitude", name="US", settings={"secretKey": "very-secret"})
    make_instance(source, "amplitude", name="EU")
    from connections.instances import set_mode

    set_mode(DestinationInstance.objects.get(name="EU"), "device", None)
    url = reverse("admin:connections_destinationinstance_change", args=[device.pk])
    page = staff_client.get(url).content.decode()
    assert "very-secret" not in page and "••••••••" in page
    response = staff_client.post(
        url, {"name": "US", "mode": "device", "enabled": "on"}, follow=True
    )
    assert (
        "Only one instance of Amplitude per source can run in device mode"
        in response.content.decode()
    )
    device.refresh_from_db()
    assert device.mode == "cloud"
    listing = staff_client.get(
        reverse("admin:connections_destinationinstance_changelist"),
        {"q": "amplitude", "mode": "cloud"},
    )
    assert listing.status_code == 200 and "very-secret" not in listing.content.decode()


def test_source_admin_search_finds_a_write_key(staff_client, catalog, workspace):
    from tests.factories import make_source

    source = make_source(workspace, name="Findable")
    key = source.write_keys.get().key
    listing = staff_client.get(reverse("admin:connections_source_changelist"), {"q": key})
    assert "Findable" in listing.content.decode()


def test_admin_deletes_go_through_the_operations(staff_client, workspace, owner, catalog):
    from connections import filters
    from connections.models import DestinationFilter, DestinationInstance, Source
    from tests.factories import make_instance, make_source

    source = make_source(workspace, "javascript")
    instance = make_instance(source, "webhooks", name="Hook")
    made = [filters.create_filter(instance, None, title=f"F{n}", condition="all", actions=[{"type": "DROP"}])
            for n in range(2)]  # fmt: skip
    version = Source.objects.get(pk=source.pk).config_version
    bulk = {"action": "delete_selected", "_selected_action": [f.pk for f in made], "post": "yes"}
    assert (
        staff_client.post(
            reverse("admin:connections_destinationfilter_changelist"), bulk
        ).status_code
        == 302
    )
    assert not DestinationFilter.objects.exists()
    assert Source.objects.get(pk=source.pk).config_version == version + 2
    one = reverse("admin:connections_destinationinstance_delete", args=[instance.pk])
    assert staff_client.post(one, {"post": "yes"}).status_code == 302
    assert not DestinationInstance.objects.exists()
    deleted = AuditEntry.objects.filter(action__in=["filter.deleted", "instance.deleted"])
    assert sorted(deleted.values_list("action", "actor_label")) == [
        ("filter.deleted", "support@example.com"), ("filter.deleted", "support@example.com"),
        ("instance.deleted", "support@example.com")]  # fmt: skip


def test_a_refused_admin_change_shows_only_the_error(staff_client, workspace, owner):
    membership = Membership.objects.get(user=owner)
    url = reverse("admin:segapp_membership_change", args=[membership.pk])
    response = staff_client.post(url, {"role": "read_only"})
    assert response.status_code == 302 and response.url == url  # back on the object
    page = staff_client.get(url).content.decode()
    assert "at least one owner" in page
    assert "successfully" not in page.lower()


def test_a_refused_admin_delete_shows_only_the_error(staff_client, workspace, owner):
    membership = Membership.objects.get(user=owner)
    url = reverse("admin:segapp_membership_delete", args=[membership.pk])
    response = staff_client.post(url, {"post": "yes"})
    change = reverse("admin:segapp_membership_change", args=[membership.pk])
    assert response.status_code == 302 and response.url == change
    page = staff_client.get(change).content.decode()
    assert "at least one owner" in page
    assert "successfully" not in page.lower()
    assert Membership.objects.filter(pk=membership.pk).exists()
