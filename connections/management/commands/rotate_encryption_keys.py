"""Re-encrypts every stored secret with the first key of SEGAPP_ENCRYPTION_KEYS: destination
instances, their settings history, and any other model holding ``EncryptedSettings``
(warehouses).

Rotation: put a new key in front of the list (keep the old ones after it), restart, run this, then
drop the old keys.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from connections.models import EncryptedSettings
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
    help = "Re-encrypt stored secrets (destinations, their settings history, warehouses) with the newest key."

    def handle(self, *args, **options):
        models = [m for m in apps.get_models() if issubclass(m, EncryptedSettings)]
        with transaction.atomic():
            counts = {m._meta.verbose_name_plural: _rotate(m) for m in models}
        done = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Re-encrypted the secrets of {done}.")
