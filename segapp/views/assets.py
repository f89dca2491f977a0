"""Files browsers ask for by a fixed path."""

from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request):
    """``/favicon.ico``, asked for by pages that link no icon (API docs, error pages)."""
    return redirect(static("segapp/favicon.svg"), permanent=True)
