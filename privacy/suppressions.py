"""Who is suppressed: routing and replays ask once per batch which of its users' events must not
reach any destination (``delivery.routing``, ``delivery.replays``). Suppressed users' events are
still accepted and archived, so a client sees no error; they are counted as filtered, with the
regulation that suppressed them as the reason."""

from django.db.models import Q

from connections.models import Source
from privacy.models import Suppression


def suppressed(source_id: str, user_ids) -> dict[str, str]:
    """{userId: the id of the regulation that suppressed it} for those of ``user_ids`` suppressed
    in the source or in its whole workspace. One query on the suppressions' unique keys, none
    when no event of the batch has a userId."""
    wanted = {user_id for user_id in user_ids if user_id}
    if not wanted:
        return {}
    workspace = Source.objects.filter(pk=source_id).values("workspace_id")[:1]
    rows = Suppression.objects.filter(user_id__in=wanted).filter(
        Q(source_id=source_id) | Q(source__isnull=True, workspace_id=workspace)
    )
    return {
        user_id: regulation_id or ""
        for user_id, regulation_id in rows.values_list("user_id", "regulation_id")
    }


def reason(regulation_id: str) -> str:
    """Why a suppressed user's event was filtered, as Event Delivery shows it."""
    return f"user suppressed (regulation {regulation_id})" if regulation_id else "user suppressed"


def suppressed_user_ids(workspace_id: str):
    """The workspace's suppressed user ids (workspace-wide or in any source), each once, in
    order: Segment's List Suppressions."""
    return (
        Suppression.objects.filter(workspace_id=workspace_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
    )
