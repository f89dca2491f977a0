"""Re-encrypts every stored secret with the first key of SEGAPP_ENCRYPTION_KEYS.

Rotation: put a new key in front of the list (keep the old ones after it), restart, run this, then
drop the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from connections.models import DestinationInstance
from segapp import crypto


class Command(BaseCommand):
    help = "Re-encrypt stored destination secrets with the newest encryption key."

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            rows = DestinationInstance.objects.exclude(encrypted_secrets="").select_for_update()
            for instance in rows.only("pk", "encrypted_secrets"):
                instance.encrypted_secrets = crypto.rotate(instance.encrypted_secrets)
                instance.save(update_fields=["encrypted_secrets"])
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} destination instance(s).")
