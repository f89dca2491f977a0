"""The Privacy Portal's pages: Inbox, Inventory, a field's page, CSV and Matchers; owners change,
other members look; another workspace's objects are absent; the number of queries does not grow
with the number of fields."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from privacy import custom_matchers, discovery, inventory
from privacy.models import Field, Matcher
from segapp.models import AuditEntry
from tests.factories import make_source, make_workspace

HTMX = {"HX-Request": "true"}


def discover(workspace, source, messages, when=None):
    tally = discovery.Tally()
    for message in messages:
        tally.add(workspace.pk, source.pk, message, when or timezone.now())
    discovery.record(workspace.pk, tally.seen(workspace.pk), tally.values(workspace.pk))


def identify(**traits) -> dict:
    return {"type": "identify", "traits": traits}


@pytest.fixture
def website(catalog, workspace):
    return make_source(workspace, "javascript", name="Website")


@pytest.fixture
def backend(catalog, workspace):
    return make_source(workspace, "http-api", name="Backend")


@pytest.fixture
def fields(workspace, website, backend):
    discover(
        workspace, website, [identify(email="jane@example.com", plan="pro", ssn="078-05-1120")]
    )
    discover(workspace, backend, [{"type": "track", "event": "Order Completed",
                                   "properties": {"revenue": 1, "email": "a@b.co"}}])  # fmt: skip
    return {f.path: f for f in Field.objects.filter(workspace=workspace)}


@pytest.fixture
def owner_client(client_as, owner):
    return client_as(owner)


def url(workspace, tail: str = "") -> str:
    return f"/w/{workspace.slug}/privacy/{tail}"


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# The Inbox.


def test_inbox_lists_new_fields_strictest_first_with_where_they_were_seen(
    owner_client, workspace, fields
):
    page = body(owner_client.get(url(workspace)))
    assert 'aria-current="page">Privacy</a>' in page
    assert 'aria-current="page">Inbox</a>' in page
    order = [p for p in re.findall(r"<code class=\"wrap\">([^<]+)</code>", page)]
    assert order[0] == "traits.ssn"  # Red first
    assert order.index("traits.email") < order.index("traits.plan")  # then Yellow, then Green
    assert "social security number matcher" in page and "no matcher matched" in page
    assert "Website" in page and "identify" in page and "track Order Completed" in page
    assert "Add to Inventory" in page


def test_inbox_shows_only_the_last_seven_days_and_no_classified_field(
    owner_client, workspace, website, owner
):
    discover(workspace, website, [identify(oldTrait="x")], when=timezone.now() - timedelta(days=8))
    discover(workspace, website, [identify(email="x@y.co", plan="p")])
    inventory.classify(workspace, owner, [Field.objects.get(path="traits.plan").pk], "green")
    page = body(owner_client.get(url(workspace)))
    assert "traits.email" in page
    assert "traits.oldTrait" not in page and "traits.plan" not in page


def test_inbox_filters_by_suggestion_and_source(owner_client, workspace, fields, backend):
    red = body(owner_client.get(url(workspace), {"classification": "red"}))
    assert "traits.ssn" in red and "traits.email" not in red
    from_backend = body(owner_client.get(url(workspace), {"source": backend.pk}))
    assert "properties.revenue" in from_backend and "traits.ssn" not in from_backend


def test_add_to_inventory_in_place_with_htmx(owner_client, workspace, fields):
    ssn = fields["traits.ssn"]
    response = owner_client.post(
        url(workspace, f"fields/{ssn.pk}/classify/"),
        {"classification": "red", "view": "inbox"},
        headers=HTMX,
    )
    row = body(response)
    assert "is in the Inventory as" in row and "Undo" in row
    assert "fieldClassified" in response["HX-Trigger"]
    ssn.refresh_from_db()
    assert ssn.classification == "red"
    # Undo puts it back in the Inbox, and the row back as it was.
    undone = body(owner_client.post(
        url(workspace, f"fields/{ssn.pk}/classify/"), {"action": "inbox", "view": "inbox"},
        headers=HTMX,
    ))  # fmt: skip
    assert "Add to Inventory" in undone
    assert Field.objects.get(pk=ssn.pk).classification == ""


def test_classify_without_javascript_redirects_back_with_a_message(owner_client, workspace, fields):
    email = fields["traits.email"]
    response = owner_client.post(
        url(workspace, f"fields/{email.pk}/classify/"),
        {"classification": "yellow", "next": url(workspace)},
        follow=True,
    )
    page = body(response)
    assert response.redirect_chain[-1][0] == url(workspace)
    assert "traits.email is in the Inventory as Yellow." in page


def test_a_bad_classification_is_refused_in_the_row(owner_client, workspace, fields):
    email = fields["traits.email"]
    row = body(owner_client.post(
        url(workspace, f"fields/{email.pk}/classify/"),
        {"classification": "purple", "view": "inbox"}, headers=HTMX,
    ))  # fmt: skip
    assert "Choose Red, Yellow or Green." in row
    assert Field.objects.get(pk=email.pk).classification == ""


def test_bulk_add_to_inventory_as_suggested(owner_client, workspace, fields):
    ids = [fields["traits.email"].pk, fields["traits.ssn"].pk]
    response = owner_client.post(
        url(workspace, "fields/classify/"), {"fields": ids, "action": "suggested"}, follow=True
    )
    assert "Added to the Inventory as suggested: 2 fields." in body(response)
    assert dict(Field.objects.filter(pk__in=ids).values_list("path", "classification")) == {
        "traits.email": "yellow",
        "traits.ssn": "red",
    }
    refused = owner_client.post(url(workspace, "fields/classify/"), {"action": "red"}, follow=True)
    assert "Select at least one field." in body(refused)


# The Inventory and its CSV.


@pytest.fixture
def classified(workspace, owner, fields):
    inventory.classify(workspace, owner, [fields["traits.ssn"].pk], "red")
    inventory.classify(workspace, owner, [fields["properties.email"].pk], "yellow")
    inventory.classify(workspace, owner, [fields["traits.plan"].pk], "green")
    return fields


def test_inventory_lists_classified_fields_with_counts_and_filters(
    owner_client, workspace, classified, backend
):
    page = body(owner_client.get(url(workspace, "inventory/")))
    assert "Red 1" in page and "Yellow 1" in page and "Green 1" in page
    assert "traits.ssn" in page and "traits.email" not in page  # still in the Inbox
    assert "owner@example.com" in page and "Download CSV" in page
    yellow = body(owner_client.get(url(workspace, "inventory/"), {"classification": "yellow"}))
    assert "properties.email" in yellow and "traits.ssn" not in yellow
    from_backend = body(owner_client.get(url(workspace, "inventory/"), {"source": backend.pk}))
    assert "properties.email" in from_backend and "traits.plan" not in from_backend


def test_changing_a_classification_in_the_inventory(owner_client, workspace, classified):
    plan = classified["traits.plan"]
    row = body(owner_client.post(
        url(workspace, f"fields/{plan.pk}/classify/"),
        {"classification": "yellow", "view": "inventory"}, headers=HTMX,
    ))  # fmt: skip
    assert 'value="yellow" selected' in row and "Saved" in row
    back = body(owner_client.post(
        url(workspace, f"fields/{plan.pk}/classify/"),
        {"action": "inbox", "view": "inventory"}, headers=HTMX,
    ))  # fmt: skip
    assert "is back in the Inbox" in back and 'name="classification" value="yellow"' in back


def test_csv_holds_the_whole_inventory_whatever_the_filters(owner_client, workspace, classified):
    response = owner_client.get(url(workspace, "inventory.csv"), {"classification": "red"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["field"], r["classification"]) for r in rows] == [
        ("properties.email", "yellow"),
        ("traits.plan", "green"),
        ("traits.ssn", "red"),
    ]
    ssn = rows[2]
    assert ssn["matcher"] == "social security number" and ssn["sources"] == "Website"
    assert ssn["events"] == "identify" and ssn["classified by"] == "owner@example.com"


def test_csv_cells_never_become_spreadsheet_formulas(owner_client, workspace, owner, catalog):
    source = make_source(workspace, "javascript", name="=HYPERLINK(1)")
    discover(workspace, source, [identify(email="a@b.co")])
    inventory.add_to_inventory(workspace, owner, list(Field.objects.values_list("pk", flat=True)))
    text = owner_client.get(url(workspace, "inventory.csv")).content.decode()
    assert "'=HYPERLINK(1)" in text


# A field's page.


def test_field_page_shows_its_matcher_sightings_and_place_in_an_event(
    owner_client, workspace, fields
):
    email = fields["traits.email"]
    page = body(owner_client.get(url(workspace, f"fields/{email.pk}/")))
    assert "built-in, matches on key and value" in page
    assert "&quot;traits&quot;: {" in page and "&quot;email&quot;: …" in page
    assert "Website" in page and "identify" in page


# Matchers.


def test_matchers_page_lists_the_builtin_ones_and_adds_a_custom_one(owner_client, workspace):
    page = body(owner_client.get(url(workspace, "matchers/")))
    assert "social security number" in page and "Key and value" in page and "0 of 100" in page
    response = owner_client.post(
        url(workspace, "matchers/"),
        {"name": "SIN", "classification": "red", "match_on": "key",
         "pattern": "Social Insurance Number"},
        headers=HTMX,
    )  # fmt: skip
    assert response.status_code == 200 and response["HX-Redirect"] == url(workspace, "matchers/")
    assert Matcher.objects.get(workspace=workspace).name == "SIN"


def test_a_bad_pattern_comes_back_inline_with_its_position(owner_client, workspace):
    form = body(owner_client.post(
        url(workspace, "matchers/"),
        {"name": "Member", "classification": "red", "match_on": "value", "pattern": "M-(\\d+"},
        headers=HTMX,
    ))  # fmt: skip
    assert 'id="matcher-form"' in form and "<html" not in form
    assert "Not a valid regular expression at position 3: missing ), unterminated subpattern." in form  # fmt: skip
    assert not Matcher.objects.exists()
    whole = body(owner_client.post(
        url(workspace, "matchers/"),
        {"name": "email", "classification": "red", "match_on": "key", "pattern": "x"},
    ))  # fmt: skip
    assert "is a built-in matcher already" in whole and "Built-in matchers" in whole


def test_edit_and_delete_a_custom_matcher(owner_client, workspace, owner):
    matcher = custom_matchers.create_matcher(
        workspace, owner, name="SIN", classification="red", match_on="key", pattern="sin"
    )
    edit = url(workspace, f"matchers/{matcher.pk}/")
    assert 'value="SIN"' in body(owner_client.get(edit))
    owner_client.post(edit, {"name": "SIN", "classification": "yellow", "match_on": "key",
                             "pattern": "sin, socinsno"})  # fmt: skip
    assert Matcher.objects.get().classification == "yellow"
    assert "Delete matcher" in body(owner_client.get(edit + "delete/"))
    owner_client.post(edit + "delete/")
    assert not Matcher.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="privacy.matcher").count() == 3


# Who may do what.


def test_members_look_but_only_owners_change(client_as, member_user, workspace, fields):
    member = client_as(member_user)
    page = body(member.get(url(workspace)))
    assert "Only workspace owners can classify fields." in page
    assert "Add to Inventory</button>" not in page
    assert "Only workspace owners can add" in body(member.get(url(workspace, "matchers/")))
    email = fields["traits.email"]
    for path, data in [
        (f"fields/{email.pk}/classify/", {"classification": "red"}),
        ("fields/classify/", {"fields": [email.pk], "action": "red"}),
        ("matchers/", {"name": "X", "classification": "red", "match_on": "key", "pattern": "x"}),
    ]:
        assert member.post(url(workspace, path), data).status_code == 403, path
    assert Field.objects.get(pk=email.pk).classification == "" and not Matcher.objects.exists()


def test_another_workspace_sees_nothing_of_this_one(client_as, workspace, fields, owner):
    stranger_workspace = make_workspace(name="Elsewhere")
    stranger = client_as(stranger_workspace.memberships.get().user)
    email = fields["traits.email"]
    assert stranger.get(url(workspace)).status_code == 404
    mine = url(stranger_workspace, f"fields/{email.pk}/")
    assert stranger.get(mine).status_code == 404
    classify = url(stranger_workspace, f"fields/{email.pk}/classify/")
    assert stranger.post(classify, {"classification": "red"}).status_code == 404
    matcher = custom_matchers.create_matcher(
        workspace, owner, name="SIN", classification="red", match_on="key", pattern="sin"
    )
    assert stranger.get(url(stranger_workspace, f"matchers/{matcher.pk}/")).status_code == 404
    assert Field.objects.get(pk=email.pk).classification == ""


# Queries do not grow with the data.


def many_fields(workspace, source, n: int):
    discover(workspace, source, [identify(**{f"trait{i}": "v" for i in range(n)})])


def many_classified(workspace, source, owner, n: int):
    many_fields(workspace, source, n)
    inventory.classify(workspace, owner, list(Field.objects.values_list("pk", flat=True)), "yellow")


@pytest.mark.parametrize("n", [1, 20])
def test_inbox_queries_are_constant(owner_client, workspace, website, n, django_assert_num_queries):
    many_fields(workspace, website, n)
    owner_client.get(url(workspace))  # the session learns the workspace: one write, once
    # 1. session  2. user  3. membership  4. count  5. the page's fields  6. their sightings
    # 7. the sources of the filter  8. the workspace switcher
    with django_assert_num_queries(8):
        body(owner_client.get(url(workspace)))


@pytest.mark.parametrize("n", [1, 20])
def test_inventory_queries_are_constant(
    owner_client, workspace, website, owner, n, django_assert_num_queries
):
    many_classified(workspace, website, owner, n)
    owner_client.get(url(workspace))  # the session learns the workspace: one write, once
    # 1. session  2. user  3. membership  4. count  5. the page's fields (and who classified
    # them)  6. their sightings  7. the sources of the filter  8. the counts by colour
    # 9. the workspace switcher
    with django_assert_num_queries(9):
        body(owner_client.get(url(workspace, "inventory/")))
    # 1. session  2. user  3. membership  4. the fields  5. their sightings
    with django_assert_num_queries(5):
        owner_client.get(url(workspace, "inventory.csv"))


@pytest.mark.parametrize("n", [1, 20])
def test_matchers_and_field_pages_queries_are_constant(
    owner_client, workspace, website, owner, n, django_assert_num_queries
):
    for i in range(n):
        Matcher.objects.create(workspace=workspace, name=f"m{i}", classification="red", pattern="k")
    many_fields(workspace, website, n)
    owner_client.get(url(workspace))  # the session learns the workspace: one write, once
    # 1. session  2. user  3. membership  4. the custom matchers  5. the workspace switcher
    with django_assert_num_queries(5):
        body(owner_client.get(url(workspace, "matchers/")))
    field = Field.objects.first()
    # 1. session  2. user  3. membership  4. the field  5. count  6. the page of sightings
    # 7. their total  8. the workspace switcher
    with django_assert_num_queries(8):
        body(owner_client.get(url(workspace, f"fields/{field.pk}/")))


def test_pages_are_linked_from_the_audit_trail(owner_client, workspace, owner, fields):
    inventory.classify(workspace, owner, [fields["traits.email"].pk], "red")
    page = body(owner_client.get(f"/w/{workspace.slug}/audit/"))
    assert "classified field" in page
    assert url(workspace, f"fields/{fields['traits.email'].pk}/") in page
