from pathlib import Path

from django.core.management.base import BaseCommand

from catalog.loader import DATA_DIR, load_catalog


class Command(BaseCommand):
    help = "Load or update the destination and source catalog from catalog/data/ (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=DATA_DIR)

    def handle(self, *args, data_dir, **options):
        for name, result in load_catalog(data_dir).items():
            self.stdout.write(
                f"{name}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
            )
