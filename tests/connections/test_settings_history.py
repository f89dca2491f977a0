"""Every settings change writes a version; the history shows diffs without secret values, and a
version can be restored, secrets included, by members but not by read-only users."""

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from connections import instances
from connections.models import DestinationInstance, SettingsVersion
from segapp import crypto
from segapp.models import AuditEntry, User
from segapp.refusal import Refusal
from tests.factories import make_instance, make_source, make_workspace

FIRST_SECRET = "first-secret-6b1f"
SECOND_SECRET = "second-secret-93ad"


def make_hook(workspace, owner):
    """A Webhooks instance whose settings changed once: version 1 → version 2."""
    instance = make_instance(
        make_source(workspace, name="Website"),
        "webhooks",
        name="Orders",
        settings={"webhookUrls": ["http://127.0.0.1:9/a"], "sharedSecret": FIRST_SECRET},
    )
    return instances.update_settings(
        instance,
        {"webhookUrls": ["http://127.0.0.1:9/b"], "sharedSecret": SECOND_SECRET},
        owner,
    )


@pytest.fixture
def hook(catalog, workspace, owner):
    return make_hook(workspace, owner)


def history_url(workspace, instance):
    return reverse("connections:instance-settings-history", args=[workspace.slug, instance.pk])


def restore_url(workspace, instance, version):
    return reverse(
        "connections:instance-settings-restore", args=[workspace.slug, instance.pk, version.pk]
    )


def versions(instance):
    return list(instance.settings_versions.order_by("number"))


def test_create_update_and_copy_each_write_a_version(hook, workspace, owner):
    other = make_instance(
        make_source(workspace, name="Backend"),
        "webhooks",
        name="Audit hook",
        settings={"webhookUrls": ["http://127.0.0.1:9/c"], "sharedSecret": "copied-secret"},
    )
    instances.copy_settings(hook, other, owner)
    first, second, third = versions(hook)
    assert [v.number for v in (first, second, third)] == [1, 2, 3]
    assert (first.action, first.actor_label, first.settings["webhookUrls"]) == (
        "instance.created",
        "system",
        ["http://127.0.0.1:9/a"],
    )
    assert (second.action, second.actor_label, second.settings["webhookUrls"]) == (
        "instance.settings_changed",
        "owner@example.com",
        ["http://127.0.0.1:9/b"],
    )
    assert (third.action, third.note, third.secrets) == (
        "instance.settings_copied",
        "Copied from Audit hook (Backend)",
        {"sharedSecret": "copied-secret"},
    )
    # Secrets are stored encrypted, as the instance's are, and each version links its entry.
    assert FIRST_SECRET not in first.encrypted_secrets and first.secrets == {
        "sharedSecret": FIRST_SECRET
    }
    assert second.audit_entry.action == "instance.settings_changed"
    assert second.audit_entry.object_id == hook.pk


def test_saving_unchanged_settings_writes_no_version(hook, owner):
    instances.update_settings(hook, {"webhookUrls": ["http://127.0.0.1:9/b"]}, owner)
    assert len(versions(hook)) == 2


def test_history_shows_plain_changes_and_secret_status_never_values(
    hook, workspace, owner, client_as
):
    instances.update_settings(
        hook, {"webhookUrls": ["http://127.0.0.1:9/c"], "headers": {"X-Team": "orders"}}, owner
    )
    response = client_as(owner).get(history_url(workspace, hook))
    assert response.status_code == 200
    html = response.content.decode()
    diffs = {d.version.number: d for d in response.context["diffs"]}
    assert [c.key for c in diffs[3].changes] == ["Webhook URLs"]
    assert (diffs[3].changes[0].old, diffs[3].changes[0].new) == (
        '["http://127.0.0.1:9/b"]',
        '["http://127.0.0.1:9/c"]',
    )
    assert [(s.key, s.status) for s in diffs[3].secrets] == [
        ("Headers", "set"),  # header values are secrets too
        ("Shared Secret", "unchanged"),
    ]
    assert [(s.key, s.status) for s in diffs[2].secrets] == [("Shared Secret", "changed")]
    assert [(s.key, s.status) for s in diffs[1].secrets] == [("Shared Secret", "set")]
    assert [c.key for c in diffs[2].changes] == ["Webhook URLs"]
    assert diffs[3].is_current and not diffs[2].is_current
    assert "secret changed" in html and "secret unchanged" in html
    assert FIRST_SECRET not in html and SECOND_SECRET not in html
    assert html.count("Restore</button>") == 2  # every version but the current one


def test_restore_brings_back_plain_and_secret_values(hook, workspace, owner, client_as):
    client = client_as(owner)
    response = client.post(restore_url(workspace, hook, versions(hook)[0]))
    assert response.status_code == 302
    assert response.url.endswith(f"/destinations/{hook.pk}/#instance-settings")
    hook = DestinationInstance.objects.get(pk=hook.pk)
    assert hook.settings["webhookUrls"] == ["http://127.0.0.1:9/a"]
    assert hook.secrets == {"sharedSecret": FIRST_SECRET}
    entry = AuditEntry.objects.filter(object_id=hook.pk).first()  # the newest
    assert (entry.action, entry.actor_user) == ("instance.settings_restored", owner)
    assert entry.before["settings"]["webhookUrls"] == ["http://127.0.0.1:9/b"]
    assert entry.after["settings"]["webhookUrls"] == ["http://127.0.0.1:9/a"]
    newest = versions(hook)[-1]
    assert (newest.number, newest.note, newest.audit_entry) == (3, "Restored version 1", entry)
    assert newest.secrets == {"sharedSecret": FIRST_SECRET}
    page = client.get(response.url).content.decode()
    assert "Restored the settings of version 1." in page


def test_restore_with_htmx_redirects_the_browser(hook, workspace, owner, client_as):
    first = versions(hook)[0]
    response = client_as(owner).post(restore_url(workspace, hook, first), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].endswith("#instance-settings")
    assert DestinationInstance.objects.get(pk=hook.pk).secrets == {"sharedSecret": FIRST_SECRET}


def test_restore_is_checked_against_the_catalog_again(hook, workspace, owner, client_as):
    first = versions(hook)[0]
    SettingsVersion.objects.filter(pk=first.pk).update(settings={"retired": "option"})
    response = client_as(owner).post(restore_url(workspace, hook, first), follow=True)
    assert "Version 1 cannot be restored: retired: Not a setting" in response.content.decode()
    hook = DestinationInstance.objects.get(pk=hook.pk)
    assert hook.secrets == {"sharedSecret": SECOND_SECRET}
    assert len(versions(hook)) == 2


def test_a_version_of_another_instance_or_workspace_is_not_found(hook, workspace, owner, client_as):
    sibling = make_instance(hook.source, "webhooks", name="Sibling")
    elsewhere = make_workspace(name="Elsewhere")
    foreign = make_instance(make_source(elsewhere), "webhooks", name="Foreign")
    client = client_as(owner)
    for version in (versions(sibling)[0], versions(foreign)[0]):
        assert client.post(restore_url(workspace, hook, version)).status_code == 404
    foreign_history = history_url(workspace, foreign)
    assert client.get(foreign_history).status_code == 404
    assert DestinationInstance.objects.get(pk=hook.pk).secrets == {"sharedSecret": SECOND_SECRET}
    with pytest.raises(Refusal, match="this destination's own settings"):
        instances.restore_settings(hook, versions(sibling)[0], owner)


def test_read_only_sees_the_history_but_cannot_restore(hook, workspace, read_only_user, client_as):
    client = client_as(read_only_user)
    page = client.get(history_url(workspace, hook))
    assert page.status_code == 200 and "Version 1" in page.content.decode()
    assert "Restore</button>" not in page.content.decode()
    assert client.post(restore_url(workspace, hook, versions(hook)[0])).status_code == 403
    assert DestinationInstance.objects.get(pk=hook.pk).secrets == {"sharedSecret": SECOND_SECRET}


def test_instance_page_links_to_its_settings_history(hook, workspace, owner, client_as):
    page = client_as(owner).get(
        reverse("connections:instance-detail", args=[workspace.slug, hook.pk])
    )
    assert history_url(workspace, hook) in page.content.decode()


def test_history_page_queries_do_not_grow_with_versions(hook, workspace, owner, client_as):
    client = client_as(owner)
    url = history_url(workspace, hook)

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(60):
        instances.update_settings(hook, {"webhookUrls": [f"http://127.0.0.1:9/{n}"]}, owner)
    many = client.get(url)
    assert len(many.context["diffs"]) == 50 and many.context["more"] == 13
    assert count() == few
    older = client.get(url, {"older": 13}).context["diffs"]
    assert [d.version.number for d in older] == list(range(12, 0, -1))


def test_rotating_keys_re_encrypts_the_versions(catalog, workspace, owner, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def use(*keys):
        monkeypatch.setenv("SEGAPP_ENCRYPTION_KEYS", ",".join(keys))
        crypto._fernet.cache_clear()

    try:
        use(old)
        hook = make_hook(workspace, owner)
        use(new, old)
        out = io.StringIO()
        call_command("rotate_encryption_keys", stdout=out)
        assert "1 destination instances, 2 settings versions" in out.getvalue()
        use(new)  # the old key is gone: every version's secrets must still read
        assert [v.secrets for v in versions(hook)] == [
            {"sharedSecret": FIRST_SECRET},
            {"sharedSecret": SECOND_SECRET},
        ]
    finally:
        crypto._fernet.cache_clear()


def test_admin_lists_versions_read_only_with_secrets_masked(hook, client):
    client.force_login(User.objects.create_superuser("support@example.com", "pw"))
    listing = client.get(reverse("admin:connections_settingsversion_changelist"), {"q": "Orders"})
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    version = versions(hook)[0]
    detail = client.get(
        reverse("admin:connections_settingsversion_change", args=[version.pk])
    ).content.decode()
    assert "sharedSecret" in detail and FIRST_SECRET not in detail
    assert version.encrypted_secrets not in detail
    assert 'name="_save"' not in detail  # nothing to save: versions are read-only here
    filtered = client.get(
        reverse("admin:connections_settingsversion_changelist"),
        {"action": "instance.settings_changed"},
    )
    assert filtered.context["cl"].result_count == 1


def test_existing_instances_start_their_history_at_the_upgrade(hook):
    migration = importlib.import_module("connections.migrations.0003_settings_versions")
    SettingsVersion.objects.all().delete()
    migration.start_histories(django_apps, None)
    (version,) = versions(hook)
    assert (version.number, version.settings, version.secrets, version.note) == (
        1,
        hook.settings,
        {"sharedSecret": SECOND_SECRET},
        "Settings when the history began",
    )
