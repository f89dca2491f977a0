"""Support staff find regulations by id and user id in the admin, add one only through the rules,
and cannot change what a regulation did."""

import pytest
from django.urls import reverse

from privacy import regulations
from privacy.models import Regulation, Suppression
from segapp.models import AuditEntry, User


@pytest.fixture
def staff(client, db):
    staff = User.objects.create_superuser("support@example.com", "pw")
    client.force_login(staff)
    client.staff = staff
    return client


def test_regulations_are_found_by_id_and_by_user_id(staff, workspace):
    ada = regulations.create_regulation(
        workspace, None, regulation_type="SUPPRESS_ONLY", subject_ids=["ada@example.com"]
    )
    bob = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["bob"]
    )
    url = reverse("admin:privacy_regulation_changelist")
    by_user = staff.get(url, {"q": "ada@example"}).content.decode()
    assert ada.pk in by_user and bob.pk not in by_user
    by_id = staff.get(url, {"q": bob.pk}).content.decode()
    assert bob.pk in by_id and ada.pk not in by_id
    suppressions = staff.get(reverse("admin:privacy_suppression_changelist"), {"q": "ada"})
    assert "ada@example.com" in suppressions.content.decode()


def test_adding_goes_through_the_rules(staff, workspace):
    url = reverse("admin:privacy_regulation_add")
    form = {"workspace": workspace.pk, "regulation_type": "SUPPRESS_ONLY",
            "subject_type": "USER_ID", "subjects": "ada\nbob\n"}  # fmt: skip
    response = staff.post(url, form, follow=True)
    assert response.status_code == 200
    regulation = Regulation.objects.get()
    assert regulation.subject_ids == ["ada", "bob"] and regulation.status == "FINISHED"
    assert set(Suppression.objects.values_list("user_id", flat=True)) == {"ada", "bob"}
    assert AuditEntry.objects.get(action="regulation.created").actor_user == staff.staff

    refused = staff.post(url, {**form, "subject_type": "OBJECT_ID"}, follow=True)
    assert "OBJECT_ID regulations delete cloud sources" in refused.content.decode()
    assert Regulation.objects.count() == 1


def test_a_regulation_is_read_only_and_withdrawn_only_before_it_starts(staff, workspace):
    finished = regulations.create_regulation(
        workspace, None, regulation_type="SUPPRESS_ONLY", subject_ids=["ada"]
    )
    waiting = regulations.create_regulation(
        workspace, None, regulation_type="DELETE_ONLY", subject_ids=["bob"]
    )
    page = staff.get(reverse("admin:privacy_regulation_change", args=[finished.pk]))
    assert page.status_code == 200 and 'name="regulation_type"' not in page.content.decode()
    steps = staff.get(reverse("admin:privacy_regulation_change", args=[waiting.pk]))
    assert "Event archive" in steps.content.decode()

    for regulation in (finished, waiting):
        staff.post(reverse("admin:privacy_regulation_delete", args=[regulation.pk]),
                   {"post": "yes"}, follow=True)  # fmt: skip
    assert list(Regulation.objects.values_list("pk", flat=True)) == [finished.pk]
    assert list(Suppression.objects.values_list("user_id", flat=True)) == ["ada"]
