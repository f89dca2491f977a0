"""Read-only tokens read everything and change nothing: every change endpoint answers 403."""

import pytest
from django.urls import reverse

from catalog.models import DestinationMetadata, SourceMetadata
from connections.models import DestinationInstance, Source, WriteKey
from segapp.models import ApiToken, AuditEntry, Role
from tests.api.conftest import errors_of
from tests.api.test_workspace_isolation import HOOK, config_api_body


def change_requests(workspace, source, instance):
    key = source.write_keys.get().key
    return [
        ("post", "/sources", {"slug": "new", "enabled": True, "metadataId": SourceMetadata.objects.get(slug="python").pk}),
        ("patch", f"/sources/{source.pk}", {"name": "Changed"}),
        ("delete", f"/sources/{source.pk}", None),
        ("post", f"/sources/{source.pk}/writekey", None),
        ("delete", f"/sources/{source.pk}/writekey/{key}", None),
        ("post", "/destinations", {"sourceId": source.pk, "metadataId": DestinationMetadata.objects.get(slug="webhooks").pk, "settings": HOOK}),
        ("patch", f"/destinations/{instance.pk}", {"enabled": True}),
        ("delete", f"/destinations/{instance.pk}", None),
        ("post", f"/workspaces/{workspace.slug}/sources/{source.slug}/destinations", config_api_body(workspace.slug, source.slug)),
    ]  # fmt: skip


def state():
    return (
        sorted(Source.objects.values_list("name", "enabled")),
        sorted(DestinationInstance.objects.values_list("name", "enabled")),
        WriteKey.objects.count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )


@pytest.mark.parametrize("index", range(9))
def test_read_only_token_is_refused_every_change(api_as, workspace, source, instance, index):
    api = api_as(Role.READ_ONLY)
    method, path, body = change_requests(workspace, source, instance)[index]
    before = state()
    call = getattr(api, method)
    response = call(path, body) if body is not None or method == "post" else call(path)
    (error,) = errors_of(response, 403)
    assert error["type"] == "forbidden"
    assert state() == before


def test_read_only_token_reads_everything(api_as, source, instance):
    api = api_as(Role.READ_ONLY)
    for path in [
        "/",
        "/sources",
        f"/sources/{source.pk}",
        f"/sources/{source.pk}/connected-destinations",
        "/destinations",
        f"/destinations/{instance.pk}",
        "/catalog/destinations",
    ]:
        assert api.get(path).status_code == 200, path


def test_member_token_may_change(api_as, source):
    api = api_as(Role.MEMBER)
    assert api.patch(f"/sources/{source.pk}", {"name": "Changed"}).status_code == 200


def test_owner_creates_a_read_only_token_on_the_tokens_page(client_as, owner, workspace):
    url = reverse("segapp:token-list", args=[workspace.slug])
    page = client_as(owner).get(url).content.decode()
    assert 'value="read_only"' in page
    response = client_as(owner).post(url, {"description": "Dashboards", "role": "read_only"})
    assert response.status_code == 200
    assert ApiToken.objects.get(description="Dashboards").role == Role.READ_ONLY
