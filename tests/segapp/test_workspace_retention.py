"""A workspace's archive retention: one rule, the same from the console and admin."""

import pytest

from segapp import workspaces
from segapp.models import AuditEntry
from segapp.refusal import Refusal

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days", [0, -3, 91])
def test_a_retention_outside_1_to_the_servers_maximum_is_refused(workspace, settings, days):
    settings.ARCHIVE_MAX_RETENTION_DAYS = 90
    with pytest.raises(Refusal) as refused:
        workspaces.update_workspace(workspace, None, retention_days=days)
    assert (refused.value.rule, refused.value.field) == ("retention-range", "retention_days")
    workspace.refresh_from_db()
    assert workspace.retention_days is None


def test_a_retention_is_kept_audited_and_can_go_back_to_the_default(workspace, owner):
    workspaces.update_workspace(workspace, owner, retention_days=7)
    workspace.refresh_from_db()
    assert workspace.retention_days == 7
    workspaces.update_workspace(workspace, owner, retention_days=None)
    workspace.refresh_from_db()
    assert workspace.retention_days is None
    changes = AuditEntry.objects.filter(action="workspace.updated").order_by("id")
    assert [e.after["retentionDays"] for e in changes] == [7, None]


def test_the_settings_page_shows_the_rules_refusal(workspace, owner, client_as):
    url = f"/w/{workspace.slug}/settings/"
    data = {"name": workspace.name, "plan": workspace.plan, "retention_days": "0"}
    html = client_as(owner).post(url, data).content.decode()
    assert "Choose between 1 and" in html
