from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Event delivery"

    def ready(self):
        from delivery import (
            payload_reads,
            prometheus,  # noqa: F401  registers the scrape-time collector
            retention,
        )

        retention.watch_deletions()
        payload_reads.register()
