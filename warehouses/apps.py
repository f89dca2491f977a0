from django.apps import AppConfig


class WarehousesConfig(AppConfig):
    name = "warehouses"
    verbose_name = "Warehouses"

    def ready(self):
        from catalog.views import register_offer
        from delivery.overview import register_targets
        from privacy.regulations import register_planner
        from warehouses import audit_types, erasure, overview
        from warehouses.views.warehouses import catalog_offer

        audit_types.register()
        register_planner(erasure.plan)
        register_offer("warehouses", catalog_offer)
        register_targets(overview.targets)
