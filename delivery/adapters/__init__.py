"""The adapter for each catalog entry that Segapp delivers to in cloud mode."""

from delivery.adapters.amplitude import AmplitudeAdapter
from delivery.adapters.base import Adapter
from delivery.adapters.braze import BrazeAdapter
from delivery.adapters.customer_io import CustomerIoAdapter
from delivery.adapters.google_analytics_4 import GoogleAnalytics4Adapter
from delivery.adapters.hubspot import HubSpotAdapter
from delivery.adapters.intercom import IntercomAdapter
from delivery.adapters.mixpanel import MixpanelAdapter
from delivery.adapters.slack import SlackAdapter
from delivery.adapters.webhooks import WebhooksAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    adapter.slug: adapter
    for adapter in [
        AmplitudeAdapter,
        BrazeAdapter,
        CustomerIoAdapter,
        GoogleAnalytics4Adapter,
        HubSpotAdapter,
        IntercomAdapter,
        MixpanelAdapter,
        SlackAdapter,
        WebhooksAdapter,
    ]
}


def adapter_for(slug: str) -> type[Adapter] | None:
    return ADAPTERS.get(slug)
