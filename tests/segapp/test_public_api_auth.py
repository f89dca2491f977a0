"""Bootstrap's token works on GET /api/; missing, wrong and revoked tokens get 401 in Segment's shape."""

import io
import json

from django.core.management import call_command

from segapp import tokens
from segapp.models import ApiToken, Workspace


def bootstrap_json(**overrides) -> dict:
    out = io.StringIO()
    args = {
        "workspace": "Bootstrapped",
        "email": "boot@example.com",
        "password": "pw-123456789",
        "plan": "team",
    }
    args.update(overrides)
    call_command("bootstrap", *[f"--{k}={v}" for k, v in args.items()], "--json", stdout=out)
    return json.loads(out.getvalue())


def test_bootstrap_prints_workspace_user_and_token(db):
    result = bootstrap_json()
    workspace = Workspace.objects.get()
    assert result["workspace"] == {
        "id": workspace.id,
        "slug": "bootstrapped",
        "name": "Bootstrapped",
        "plan": "team",
    }
    assert result["user"] == {"email": "boot@example.com"}
    assert result["api_token"].startswith("sgp_")


def test_bootstrap_reuses_user_and_workspace(db):
    first, second = bootstrap_json(), bootstrap_json(plan="business")
    assert first["workspace"]["id"] == second["workspace"]["id"]
    assert Workspace.objects.get().plan == "business"
    assert first["api_token"] != second["api_token"]
    assert ApiToken.objects.count() == 2


def test_bootstrap_token_gets_the_workspace(client, db):
    result = bootstrap_json()
    response = client.get("/api/", headers={"Authorization": f"Bearer {result['api_token']}"})
    assert response.status_code == 200
    ws = result["workspace"]
    assert response.json() == {
        "data": {"workspace": {"id": ws["id"], "slug": ws["slug"], "name": ws["name"]}}
    }


def assert_401(response):
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    assert body["errors"][0]["type"] == "unauthorized" and body["errors"][0]["message"]


def test_no_token_is_401(client, db):
    assert_401(client.get("/api/"))


def test_wrong_token_is_401(client, db):
    bootstrap_json()
    assert_401(client.get("/api/", headers={"Authorization": "Bearer sgp_not-a-real-token"}))


def test_revoked_token_is_401(client, db):
    result = bootstrap_json()
    token = ApiToken.objects.get()
    tokens.revoke_token(token, actor=None)
    assert_401(client.get("/api/", headers={"Authorization": f"Bearer {result['api_token']}"}))


def test_token_sees_only_its_own_workspace(client, db):
    mine, _ = bootstrap_json(), bootstrap_json(workspace="Other", email="other@example.com")
    response = client.get("/api/", headers={"Authorization": f"Bearer {mine['api_token']}"})
    assert response.json()["data"]["workspace"]["slug"] == "bootstrapped"
