from django.apps import AppConfig
from django.db.models.signals import post_migrate


def load_catalog_after_migrate(sender, using="default", **kwargs) -> None:
    """A database has the catalog that ships with the code as soon as ``migrate`` has run, and a
    release that changes ``catalog/data/`` updates it there (the load is idempotent and quick;
    entries are matched by id and instances keep theirs)."""
    from django.db import connections

    from catalog.loader import load_catalog
    from catalog.models import DestinationMetadata, SourceMetadata

    tables = connections[using].introspection.table_names()
    if {DestinationMetadata._meta.db_table, SourceMetadata._meta.db_table} <= set(tables):
        load_catalog(using=using)


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        post_migrate.connect(load_catalog_after_migrate, sender=self)
