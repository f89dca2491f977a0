"""List endpoints issue the same queries for 1 row as for 20."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connections import sources
from tests.factories import make_instance, make_source


def queries(api, path) -> int:
    api.get(path)  # the first call also marks the token used; later calls do not
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def grow(workspace, source, rows: int) -> None:
    """Adds rows through the real operations, each source with two write keys."""
    for n in range(rows):
        other = make_source(workspace, "javascript", name=f"Site {n}")
        sources.add_write_key(other, None)
        make_instance(source, "webhooks", name=f"Hook {n}", settings={"sharedSecret": "s"})


@pytest.mark.parametrize(
    "path, expected",
    [
        # token, rate-limit upsert, count, page, the page's write keys
        ("/sources", 5),
        # token, rate-limit upsert, count, page (with its catalog entries)
        ("/destinations", 4),
        # token, rate-limit upsert, the source, its write keys (the viewset's prefetch), count,
        # page (with its catalog entries)
        ("/sources/{source}/connected-destinations", 6),
    ],
)
def test_lists_query_count_is_the_same_for_1_and_20_rows(catalog, api, workspace, path, expected):
    source = make_source(workspace, "javascript", name="Main")
    make_instance(source, "webhooks", name="Main hook")
    path = path.format(source=source.pk)
    one = queries(api, path)
    grow(workspace, source, 19)
    twenty = queries(api, path)
    assert api.get(path).json()["data"]["pagination"]["totalEntries"] == 20
    assert one == twenty == expected
