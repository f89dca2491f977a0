"""A change to what privacy rules do to events (a classification, a data control, an instance's
privacy choice, the encryption key) must reach routing on the next batch: it bumps the
configuration version of the workspace's sources, which ``delivery.pipeline`` rebuilds on."""

from django.db.models import F

from connections.models import Source


def policy_changed(workspace_id: str) -> None:
    Source.objects.filter(workspace_id=workspace_id).update(config_version=F("config_version") + 1)


def workspace_saved(sender, instance, created, **kwargs) -> None:
    """A workspace's eligibility for encryption may have changed: routing re-reads it."""
    if not created:
        policy_changed(instance.pk)
