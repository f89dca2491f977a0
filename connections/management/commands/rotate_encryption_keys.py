"""Re-encrypts every stored secret with the first key of SEGAPP_ENCRYPTION_KEYS.

Rotation: put a new key in front of the list (keep the old ones after it), restart, run this, then
drop the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from connections.models import DestinationInstance, SettingsVersion
from segapp import crypto


def _rotate(model) -> int:
    count = 0
    rows = model.objects.exclude(encrypted_secrets="").select_for_update()
    for row in rows.only("pk", "encrypted_secrets"):
        row.encrypted_secrets = crypto.rotate(row.encrypted_secrets)
        row.save(update_fields=["encrypted_secrets"])
        count += 1
    return count


class Command(BaseCommand):
    help = "Re-encrypt stored destination secrets (and their settings history) with the newest key."

    def handle(self, *args, **options):
        with transaction.atomic():
            instances = _rotate(DestinationInstance)
            versions = _rotate(SettingsVersion)
        self.stdout.write(
            f"Re-encrypted the secrets of {instances} destination instance(s) "
            f"and {versions} settings version(s)."
        )
