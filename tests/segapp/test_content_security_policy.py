"""A console that holds credentials runs only its own code: a Content-Security-Policy on every
page."""

from django.urls import reverse

from tests.processes import REPO


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_console_pages_allow_only_their_own_scripts_and_styles(client_as, owner, workspace):
    client = client_as(owner)
    for url in [
        "/signin/",
        reverse("segapp:member-list", args=[workspace.slug]),
        reverse("segapp:token-list", args=[workspace.slug]),
    ]:
        policy = directives(client.get(url))
        assert policy["default-src"] == "'self'", url
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", url
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", url


def test_htmx_fragments_carry_the_policy_too(client_as, owner, workspace):
    url = reverse("segapp:system-status", args=[workspace.slug])
    response = client_as(owner).get(url, headers={"HX-Request": "true"})
    assert directives(response)["script-src"] == "'self'"


def test_console_templates_have_no_inline_script_or_style():
    """What the policy would block: inline <script>, style= and event-handler attributes."""
    needles = ("<script>", "<style", "style=", "hx-on", " onclick=", "javascript:")
    offenders = [
        f"{path.relative_to(REPO)}: {needle}"
        for path in (REPO / "templates").rglob("*.html")
        for needle in needles
        if needle in path.read_text()
    ]
    assert offenders == []


def test_api_docs_run_their_script_from_a_file(client):
    response = client.get("/api/docs/")
    page = response.content.decode()
    assert "<script>" not in page
    policy = directives(response)
    assert policy["script-src"] == "'self'"
    # Swagger UI's page carries its own small <style> block and data: icons.
    assert "'unsafe-inline'" in policy["style-src"] and "data:" in policy["img-src"]
    script = client.get(reverse("api:docs"), {"script": ""})
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
