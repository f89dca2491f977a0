"""Privacy → Data controls and Encryption, a destination's Privacy panel, the HIPAA badge, the
admin for support staff, and the audit entries every read of event payloads leaves."""

import pytest
from django.urls import reverse

from connections.models import Source
from delivery.models import Event
from privacy import controls
from privacy.models import DataControl, EncryptionKey, InstancePrivacy, YellowProtection
from segapp.models import AuditEntry, User
from tests.delivery.conftest import track
from tests.factories import make_instance, make_source
from tests.privacy.keys import openssl_key_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def instances(source):
    return (
        make_instance(source, "webhooks", settings={"webhookUrls": ["http://127.0.0.1:9/h"]}),
        make_instance(source, "amplitude", settings={"apiKey": "k"}),
    )


@pytest.fixture
def owner_client(client_as, owner):
    return client_as(owner)


@pytest.fixture
def public_pem(tmp_path):
    return openssl_key_pair(tmp_path)[1]


def page(workspace, name, *args):
    return reverse(f"privacy:{name}", args=[workspace.slug, *args])


def test_the_controls_page_offers_the_workspaces_categories(owner_client, workspace, instances):
    response = owner_client.get(page(workspace, "controls"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Every other category" in text and "Raw Data" in text and "Analytics" in text
    assert 'name="red-0"' in text and 'name="yellow-2"' in text


def test_an_owner_saves_the_controls(owner_client, workspace, instances):
    # Rows: 0 every other category, 1 Analytics, 2 Raw Data (sorted).
    response = owner_client.post(
        page(workspace, "controls"),
        {"red-0": "block", "yellow-0": "send", "red-1": "", "yellow-1": "hash",
         "red-2": "", "yellow-2": ""},
    )  # fmt: skip
    assert response.status_code == 302
    saved = {(c.category, c.classification): c.action for c in DataControl.objects.all()}
    assert saved == {("", "red"): "block", ("Analytics", "yellow"): "hash"}
    text = owner_client.get(page(workspace, "controls")).content.decode()
    assert "Data controls saved" in text
    entry = AuditEntry.objects.filter(action="privacy.control_changed").first()
    assert entry.actor_user.email == workspace.memberships.get().user.email


def test_members_read_the_controls_but_only_owners_change_them(
    client_as, member_user, workspace, instances
):
    member = client_as(member_user)
    text = member.get(page(workspace, "controls")).content.decode()
    assert "Only workspace owners can change data controls." in text and "disabled" in text
    assert member.post(page(workspace, "controls"), {"red-0": "send"}).status_code == 403
    assert not DataControl.objects.exists()


def test_encryption_explains_itself_to_a_workspace_that_is_not_eligible(owner_client, workspace):
    text = owner_client.get(page(workspace, "encryption")).content.decode()
    assert "HIPAA-eligible workspaces" in text and "<textarea" not in text
    response = owner_client.post(page(workspace, "encryption"), {"public_key": "x"}, follow=True)
    assert "Only HIPAA-eligible workspaces encrypt fields" in response.content.decode()
    assert not EncryptionKey.objects.exists()


def test_an_owner_of_an_eligible_workspace_uploads_a_key(owner_client, workspace, public_pem):
    workspace.hipaa_eligible = True
    workspace.save()
    response = owner_client.post(page(workspace, "encryption"), {"public_key": "-----BEGIN PUBLIC KEY-----\nAA\n-----END PUBLIC KEY-----"}, follow=True)  # fmt: skip
    assert "This is not a PEM public key" in response.content.decode()
    response = owner_client.post(
        page(workspace, "encryption"), {"public_key": public_pem}, follow=True
    )
    key = EncryptionKey.objects.get()
    text = response.content.decode()
    assert "Key saved" in text and key.fingerprint in text and "RSA, 2048 bits" in text
    assert AuditEntry.objects.filter(action="privacy.key_uploaded").count() == 1


def test_the_hipaa_badge_shows_on_the_general_settings_of_eligible_workspaces(
    owner_client, workspace
):
    url = reverse("segapp:settings-general", args=[workspace.slug])
    assert "HIPAA eligible" not in owner_client.get(url).content.decode()
    workspace.hipaa_eligible = True
    workspace.save()
    assert "HIPAA eligible" in owner_client.get(url).content.decode()


def test_the_instance_page_loads_its_privacy_panel(owner_client, workspace, instances):
    webhooks, _ = instances
    detail = reverse("connections:instance-detail", args=[workspace.slug, webhooks.pk])
    panel = page(workspace, "instance", webhooks.pk)
    assert f'hx-get="{panel}"' in owner_client.get(detail).content.decode()
    text = owner_client.get(panel, headers={"HX-Request": "true"}).content.decode()
    assert "Raw Data" in text and "Allow Red fields" in text
    assert "Encryption is for HIPAA-eligible workspaces." in text


def test_the_panel_saves_the_instances_choices_and_says_why_not(owner_client, workspace, instances):
    webhooks, _ = instances
    panel = page(workspace, "instance", webhooks.pk)
    text = owner_client.post(panel, {"red_allowed": "on", "yellow": "hash"}).content.decode()
    assert "Saved" in text
    chosen = InstancePrivacy.objects.get(instance=webhooks)
    assert chosen.red_allowed and chosen.yellow_protection == YellowProtection.HASH
    text = owner_client.post(panel, {"yellow": "encrypt"}).content.decode()
    assert "Encryption of Yellow fields is for HIPAA-eligible workspaces" in text
    assert InstancePrivacy.objects.get(instance=webhooks).yellow_protection == "hash"


def test_a_member_cannot_change_an_instances_privacy(client_as, member_user, workspace, instances):
    webhooks, _ = instances
    member = client_as(member_user)
    panel = page(workspace, "instance", webhooks.pk)
    assert "Only workspace owners can change this." in member.get(panel).content.decode()
    assert member.post(panel, {"red_allowed": "on"}).status_code == 403


# Support staff.


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_superuser("support@example.com", "pw"))
    return client


def test_support_staff_set_hipaa_eligibility_through_the_workspace_rules(
    staff_client, workspace, source
):
    version = source.config_version
    url = reverse("admin:segapp_workspace_change", args=[workspace.pk])
    form = {"name": workspace.name, "plan": workspace.plan, "retention_days": "",
            "hipaa_eligible": "on", "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0"}  # fmt: skip
    response = staff_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    workspace.refresh_from_db()
    assert workspace.hipaa_eligible
    entry = AuditEntry.objects.get(action="workspace.updated")
    assert entry.after["hipaaEligible"] is True and entry.actor_user.is_superuser
    assert Source.objects.get(pk=source.pk).config_version > version  # routing re-reads it


def test_support_staff_cannot_store_an_unusable_key(staff_client, workspace):
    workspace.hipaa_eligible = True
    workspace.save()
    response = staff_client.post(
        reverse("admin:privacy_encryptionkey_add"),
        {"workspace": workspace.pk, "public_key_pem": "not a key"},
        follow=True,
    )
    assert "This is not a PEM public key" in response.content.decode()
    assert not EncryptionKey.objects.exists()


def test_support_staff_search_the_controls(staff_client, workspace, owner):
    controls.set_control(workspace, "Analytics", "red", "block", owner)
    response = staff_client.get(reverse("admin:privacy_datacontrol_changelist"), {"q": "Analyt"})
    assert "Analytics" in response.content.decode()


# HIPAA auditing of payload reads.


@pytest.fixture
def archived(client, source):
    client.post("/v1/track", track(1, messageId="m-1"), content_type="application/json",
                headers={"Authorization": basic(source)})  # fmt: skip
    return Event.objects.get(message_id="m-1")


def basic(source) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{source.write_keys.get().key}:".encode()).decode()


def reads(workspace) -> list[tuple[str, str]]:
    rows = AuditEntry.objects.filter(workspace=workspace).order_by("id")
    return [(e.action, e.actor_label) for e in rows if e.action.endswith(("_viewed", "_tested",
                                                                         "_previewed"))]  # fmt: skip


def test_every_read_of_event_payloads_is_in_the_audit_trail(
    owner_client, owner, workspace, source, instances, archived, sink, settings
):
    settings.EGRESS_ALLOW_PRIVATE = True
    webhooks, _ = instances
    tested = make_instance(source, "webhooks", name="Tested",
                           settings={"webhookUrls": [f"{sink.url}/tested"]})  # fmt: skip
    debugger = reverse("delivery:debugger", args=[workspace.slug, source.pk])
    owner_client.get(debugger)
    owner_client.get(debugger, {"event": archived.pk}, headers={"HX-Request": "true",
                                                                "HX-Target": "event-detail"})  # fmt: skip
    owner_client.get(reverse("delivery:event-delivery", args=[workspace.slug, webhooks.pk]))
    event = '{"type": "track", "event": "X", "userId": "u"}'
    owner_client.post(
        reverse("delivery:routing-preview", args=[workspace.slug, source.pk]), {"event": event}
    )
    owner_client.post(
        reverse("delivery:event-tester", args=[workspace.slug, tested.pk]), {"event": event}
    )
    assert [r.path for r in sink.received] == ["/tested"]
    assert reads(workspace) == [
        ("source.debugger_viewed", owner.email),
        ("source.event_viewed", owner.email),
        ("instance.samples_viewed", owner.email),
        ("source.routing_previewed", owner.email),
        ("instance.event_tested", owner.email),
    ]
    opened = AuditEntry.objects.get(action="source.event_viewed")
    assert opened.after == {"messageId": "m-1"}
    trail = owner_client.get(reverse("segapp:audit-trail", args=[workspace.slug]))
    assert "opened an event in the debugger" in trail.content.decode()
