"""Privacy → End-user privacy, through the Django test client: the lists, the owner's forms (each
a plain form), refusals beside their field, roles, the progress fragment and its polling."""

import re

import pytest
from django.urls import reverse

from delivery import erasure
from privacy import regulations
from privacy.models import Regulation, RegulationStatus, Suppression
from segapp.models import AuditEntry
from tests.factories import make_workspace


@pytest.fixture
def page_url(workspace):
    return reverse("privacy:regulations", args=[workspace.slug])


@pytest.fixture
def as_owner(client_as, owner):
    return client_as(owner)


def regulate(workspace, kind, users, source=None):
    return regulations.create_regulation(
        workspace, None, regulation_type=kind, subject_ids=users, source=source
    )


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_page_lists_suppressed_users_and_regulations_with_their_progress(
    as_owner, workspace, site, page_url
):
    regulate(workspace, "SUPPRESS_ONLY", ["ada"], source=site)
    deletion = regulate(workspace, "SUPPRESS_WITH_DELETE", ["bob", "cy", "dee", "eve"])
    erasure.run()

    html = text(as_owner.get(page_url))

    assert '<a href="' + page_url + '" aria-current="page">End-user privacy</a>' in html
    assert '<code>ada</code></td> <td data-label="Where">Site</td>' in html
    assert '<code>bob</code></td> <td data-label="Where">Every source</td>' in html
    row = html.split(f'id="regulation-{deletion.pk}"')[1].split("</tr>")[0]
    assert "SUPPRESS_WITH_DELETE" in row and "Every source" in row
    assert "<code>bob</code><code>cy</code><code>dee</code>" in row and "and 1 more" in row
    assert "Event archive" in row and "0 events deleted" in row and "Finished" in row
    assert 'hx-trigger="every 2s"' not in html, "nothing runs: no polling"


def test_an_owner_suppresses_users_with_the_form(as_owner, workspace, site, page_url):
    response = as_owner.post(page_url, {"form": "suppress", "suppress-regulation_type":
                                        "SUPPRESS_ONLY", "suppress-user_ids": "ada\n bob \n\nada",
                                        "suppress-source": site.pk}, follow=True)  # fmt: skip
    html = text(response)
    assert "Suppressed 2 users" in html
    assert set(Suppression.objects.values_list("user_id", "source_id")) == {
        ("ada", site.pk),
        ("bob", site.pk),
    }
    assert AuditEntry.objects.filter(action="regulation.created").count() == 1


def test_an_owner_requests_a_deletion_and_the_list_polls_its_progress(
    as_owner, workspace, page_url
):
    response = as_owner.post(page_url, {"form": "delete", "delete-regulation_type":
                                        "DELETE_ONLY", "delete-user_ids": "ada",
                                        "delete-source": ""}, follow=True)  # fmt: skip
    html = text(response)
    regulation = Regulation.objects.get()
    assert (regulation.regulation_type, regulation.source_id) == ("DELETE_ONLY", None)
    assert "Deletion requested for 1 user" in html
    assert 'hx-trigger="every 2s"' in html and "Initialized" in html

    fragment = as_owner.get(
        page_url, headers={"HX-Request": "true", "HX-Target": "regulation-list"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert 'id="regulation-list"' in fragment.content.decode()

    erasure.run()
    ended = as_owner.get(page_url, headers={"HX-Request": "true", "HX-Target": "regulation-list"})
    assert ended.status_code == 286, "every deletion ended: polling stops"
    assert "Finished" in ended.content.decode()


def test_remove_lifts_a_suppression_with_an_unsuppress_regulation(
    as_owner, workspace, site, page_url
):
    regulate(workspace, "SUPPRESS_ONLY", ["ada", "bob"], source=site)
    html = text(as_owner.get(page_url))
    assert 'aria-label="Remove ada from the suppression list"' in html

    response = as_owner.post(page_url, {"regulation_type": "UNSUPPRESS", "user_ids": "ada",
                                        "source": site.pk}, follow=True)  # fmt: skip

    assert "Lifted the suppression of 1 user" in text(response)
    assert list(Suppression.objects.values_list("user_id", flat=True)) == ["bob"]
    assert Regulation.objects.filter(regulation_type="UNSUPPRESS", source=site).exists()


def test_a_refusal_comes_back_beside_its_field(as_owner, workspace, site, page_url):
    regulate(workspace, "SUPPRESS_ONLY", ["ada"])
    too_many = "\n".join(f"u{n}" for n in range(5001))
    html = text(as_owner.post(page_url, {"form": "delete", "delete-regulation_type":
                                         "DELETE_ONLY", "delete-user_ids": too_many,
                                         "delete-source": ""}))  # fmt: skip
    assert "At most 5000 user ids per request" in html
    assert 'name="delete-user_ids"' in html and "u4999" in html, "the form keeps what was typed"

    refused = as_owner.post(page_url, {"regulation_type": "UNSUPPRESS", "user_ids": "ada",
                                       "source": site.pk}, follow=True)  # fmt: skip
    assert "suppressed in the whole workspace" in text(refused)
    assert Regulation.objects.count() == 1 and Suppression.objects.count() == 1


def test_members_see_the_lists_but_only_owners_regulate(
    client_as, member_user, read_only_user, workspace, page_url
):
    regulate(workspace, "SUPPRESS_ONLY", ["ada"])
    for user in (member_user, read_only_user):
        client = client_as(user)
        html = text(client.get(page_url))
        assert "ada" in html and "Only workspace owners can suppress users" in html
        assert 'name="suppress-user_ids"' not in html and "Remove" not in html
        post = client.post(page_url, {"form": "suppress", "suppress-regulation_type":
                                      "SUPPRESS_ONLY", "suppress-user_ids": "bob"})  # fmt: skip
        assert post.status_code == 403
    assert Regulation.objects.count() == 1


def test_another_workspace_neither_shows_nor_lets_in(client_as, workspace, page_url):
    other = make_workspace(name="Other")
    regulate(other, "SUPPRESS_ONLY", ["theirs"])
    outsider = client_as(make_workspace(name="Mine").memberships.get().user)
    assert outsider.get(page_url).status_code == 404
    html = text(client_as(workspace.memberships.get().user).get(page_url))
    assert "theirs" not in html and "No user is suppressed" in html


def test_the_page_costs_the_same_queries_for_1_and_25_regulations(
    as_owner, workspace, site, page_url, django_assert_num_queries
):
    def grow(n):
        regulate(workspace, "SUPPRESS_WITH_DELETE", [f"u{n}"], source=site if n % 2 else None)

    grow(0)
    as_owner.get(page_url)
    # session, user, membership, sources, regulations' count and page, their steps,
    # suppressions' count and page, the workspace switcher
    with django_assert_num_queries(10):
        as_owner.get(page_url)
    for n in range(1, 25):
        grow(n)
    with django_assert_num_queries(10):
        html = text(as_owner.get(page_url))
    assert html.count('id="regulation-') == 25 + 1  # the rows and the list itself


def test_a_deletion_in_progress_shows_a_retry_and_its_error(as_owner, workspace, page_url):
    regulation = regulate(workspace, "DELETE_ONLY", ["ada"])
    step = regulation.steps.get()
    from datetime import timedelta

    from django.utils import timezone

    regulations.start_step(step)
    regulations.retry_step(step, "connection refused", timezone.now() + timedelta(minutes=5))
    html = text(as_owner.get(page_url))
    assert "Running" in html and "Retrying at" in html and "connection refused" in html
    assert Regulation.objects.get().status == RegulationStatus.RUNNING
