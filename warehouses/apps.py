from django.apps import AppConfig


class WarehousesConfig(AppConfig):
    name = "warehouses"
    verbose_name = "Warehouses"

    def ready(self):
        from delivery.overview import register_targets
        from warehouses import audit_types, overview

        audit_types.register()
        register_targets(overview.targets)
