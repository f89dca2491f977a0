import os
import socket

from celery import shared_task
from django.utils import timezone

from segapp.models import WorkerPing


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=20, time_limit=30)
def answer_ping(ping_id: int) -> None:
    # Idempotent: a second run finds the ping answered and leaves the first answer in place.
    WorkerPing.objects.filter(pk=ping_id, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by_pid=os.getpid(), handled_by_host=socket.gethostname()
    )
