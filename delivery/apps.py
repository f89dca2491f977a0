from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Event delivery"

    def ready(self):
        from delivery import (
            prometheus,  # noqa: F401  registers the scrape-time collector
            retention,
        )

        retention.watch_deletions()
