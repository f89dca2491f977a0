from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self):
        from catalog.loader import destinations_updated
        from connections import audit_types
        from connections.instances import catalog_entries_updated

        destinations_updated.connect(catalog_entries_updated, dispatch_uid="connections-config")
        audit_types.register()
