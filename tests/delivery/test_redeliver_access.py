"""Re-delivering one dead letter names the job under its destination: another destination's job,
another workspace's included, answers 404 and stays dead-lettered."""

import pytest
from django.test import Client

from delivery.models import DeliveryJob, JobState

pytestmark = pytest.mark.django_db


def redeliver(user, workspace, instance, job):
    client = Client()
    client.force_login(user)
    return client.post(
        f"/w/{workspace.slug}/destinations/{instance.pk}/delivery/redeliver/{job.pk}/"
    )


def test_another_workspaces_job_under_my_destination_is_404(workspaces_a_and_b):
    a, b = workspaces_a_and_b
    response = redeliver(b["owner"], b["workspace"], b["instance"], a["dead_letter"])
    assert response.status_code == 404
    assert DeliveryJob.objects.get(pk=a["dead_letter"].pk).state == JobState.DEAD_LETTERED


def test_my_own_dead_letter_is_put_back_in_line(workspaces_a_and_b):
    _, b = workspaces_a_and_b
    response = redeliver(b["owner"], b["workspace"], b["instance"], b["dead_letter"])
    assert response.status_code == 302
    assert DeliveryJob.objects.get(pk=b["dead_letter"].pk).state != JobState.DEAD_LETTERED
