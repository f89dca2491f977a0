"""The Celery app. Workers: ``celery -A segapp worker`` (add ``-B`` on exactly one for the sweeps)."""

import os

from celery import Celery

from segapp import broker

# Before any connection resolves its transport: a worker must survive losing Redis (see broker).
broker.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")

app = Celery("segapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Connect the one-line-per-task log signals.
import segapp.logging  # noqa: E402, F401
