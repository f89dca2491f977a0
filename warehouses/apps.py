from django.apps import AppConfig


class WarehousesConfig(AppConfig):
    name = "warehouses"
    verbose_name = "Warehouses"

    def ready(self):
        from catalog.views import register_offer
        from delivery.overview import register_targets
        from warehouses import audit_types, overview
        from warehouses.views.warehouses import catalog_offer

        audit_types.register()
        register_offer("warehouses", catalog_offer)
        register_targets(overview.targets)
