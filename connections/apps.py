from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self):
        from catalog.loader import destinations_updated, register_option_types
        from connections import audit_types
        from connections.instances import catalog_entries_updated
        from connections.settings_schema import OPTION_TYPES

        register_option_types({name: kind.formats for name, kind in OPTION_TYPES.items()})

        destinations_updated.connect(catalog_entries_updated, dispatch_uid="connections-config")
        audit_types.register()
