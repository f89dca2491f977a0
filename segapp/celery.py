"""The Celery app. Workers: ``celery -A segapp worker``; each also sends the periodic sweeps when
they are due (segapp/sweeps.py), so no separate ``celery beat`` is needed."""

import os

from celery import Celery
from celery.signals import worker_process_shutdown, worker_ready, worker_shutdown

from segapp import broker, embedded_broker

# Before any connection resolves its transport: a worker must survive losing Redis (see broker),
# and the embedded broker must never hand out a message half written (see embedded_broker).
broker.register()
embedded_broker.register()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segapp.settings")

app = Celery("segapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Connect the one-line-per-task log signals.
import segapp.logging  # noqa: E402, F401


@worker_ready.connect
def start_sweep_ticker(sender, **kwargs):
    from segapp.sweeps import Ticker

    sender.app.segapp_ticker = Ticker(sender.app, sender.hostname)
    sender.app.segapp_ticker.start()


@worker_shutdown.connect
def stop_sweep_ticker(sender, **kwargs):
    ticker = getattr(sender.app, "segapp_ticker", None) if sender else None
    if ticker is not None:
        ticker.stop()


@worker_process_shutdown.connect
def close_progress_notes(**kwargs):
    from delivery.progress import close_notes

    close_notes()
