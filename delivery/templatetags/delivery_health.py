"""Delivery health for console pages that list instances.

``connections`` cannot import ``delivery``; its templates load this library by name, as they
already link to delivery's pages by URL name. A page computes health once for all the instances
it shows (``instance_health``), then each row renders its badge from that map (``health_badge``).
"""

from django import template

from delivery.health import health_of

register = template.Library()


@register.simple_tag
def instance_health(instances):
    """``{% instance_health instances as health %}``: two queries for the whole page."""
    return health_of(instances)


@register.inclusion_tag("delivery/_health.html")
def health_badge(health, instance):
    """``{% health_badge health instance %}``: enabled or disabled, and the health word."""
    return {"instance": instance, "health": health.get(instance.pk)}
