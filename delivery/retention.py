"""How long the event archive keeps a workspace's events, and removing what it no longer keeps."""

from datetime import datetime, timedelta

from django.conf import settings

from segapp.models import Workspace


def retention_days(workspace: Workspace) -> int:
    """The workspace's choice, within the server's maximum; the server's default if it has none."""
    days = workspace.retention_days or settings.ARCHIVE_RETENTION_DAYS
    return min(days, settings.ARCHIVE_MAX_RETENTION_DAYS)


def kept_from(workspace: Workspace, now: datetime) -> datetime:
    """The oldest ``received_at`` the archive still holds for the workspace."""
    return now - timedelta(days=retention_days(workspace))
