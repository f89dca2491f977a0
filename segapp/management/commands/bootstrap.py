"""Creates (or reuses) a user and a workspace and issues a Public API token, for scripts and tests."""

import json

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import slugify

from segapp import tokens, workspaces
from segapp.models import Membership, Plan, Role, User, Workspace


def ensure_owner(workspace_name: str, email: str, plan: str, password: str | None):
    """The user (created if missing) owns the workspace (created if missing) on ``plan``. The
    password is set when given; changing it signs the user's sessions out."""
    with transaction.atomic():
        user = User.objects.filter(email=email.lower()).first() or User.objects.create_user(email)
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        workspace = Workspace.objects.filter(slug=slugify(workspace_name)).first()
        if workspace is None:
            workspace = workspaces.create_workspace(user, workspace_name, plan)
        else:
            Membership.objects.update_or_create(
                workspace=workspace, user=user, defaults={"role": Role.OWNER}
            )
            workspaces.update_workspace(workspace, user, plan=plan)
    return workspace, user


def bootstrap(workspace_name: str, email: str, password: str, plan: str) -> dict:
    with transaction.atomic():
        workspace, user = ensure_owner(workspace_name, email, plan, password)
        _, raw_token = tokens.create_token(workspace, "bootstrap", Role.OWNER, actor=user)
    return {
        "workspace": {
            "id": workspace.id,
            "slug": workspace.slug,
            "name": workspace.name,
            "plan": workspace.plan,
        },
        "user": {"email": user.email},
        "api_token": raw_token,
    }


class Command(BaseCommand):
    help = "Create or reuse a user and workspace, and print a new Public API token."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="workspace name")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--plan", choices=Plan.values, default=Plan.FREE)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        result = bootstrap(
            options["workspace"], options["email"], options["password"], options["plan"]
        )
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            ws = result["workspace"]
            self.stdout.write(f"Workspace {ws['name']} ({ws['slug']}, {ws['plan']}) id {ws['id']}")
            self.stdout.write(f"User      {result['user']['email']}")
            self.stdout.write(f"API token {result['api_token']}  (shown once)")
