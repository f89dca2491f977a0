"""Celery tasks of the warehouses app: each takes ids and calls one domain function."""

from functools import partial

from celery import shared_task
from django.db import transaction

from delivery.tasks import publish
from segapp import sweeps
from warehouses import erasure, syncs
from warehouses.models import Sync


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def run_sync(sync_id: str) -> None:
    if syncs.run(sync_id):
        publish(run_sync, sync_id)
        return
    warehouse_id = Sync.objects.filter(pk=sync_id).values_list("warehouse_id", flat=True).first()
    if warehouse_id:
        for waiting_id in syncs.waiting(warehouse_id):
            publish(run_sync, waiting_id)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
@sweeps.exclusive(lease_seconds=60)
def start_due_syncs() -> None:
    """Starts the syncs whose scheduled time has come, and sends again those no worker holds."""
    for connected in syncs.due_connections():
        sync, new = syncs.start(connected)
        if new:
            publish(run_sync, sync.pk)
    for sync_id in syncs.stalled():
        syncs.requeued(sync_id)
        publish(run_sync, sync_id)


def queue_sync(sync_id: str) -> None:
    """Sends a new sync's task once its row is committed (Sync now, from any surface)."""
    transaction.on_commit(partial(publish, run_sync, sync_id))


@shared_task(acks_late=True, soft_time_limit=250, time_limit=300)
@sweeps.exclusive(lease_seconds=300)
def erase_warehouses() -> None:
    """Deletes regulated users' rows from warehouses (``warehouses.erasure``)."""
    erasure.run()
