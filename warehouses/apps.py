from django.apps import AppConfig


class WarehousesConfig(AppConfig):
    name = "warehouses"
    verbose_name = "Warehouses"

    def ready(self):
        from catalog.views import register_offer
        from warehouses import audit_types, views

        audit_types.register()
        register_offer("warehouses", views.catalog_offer)
