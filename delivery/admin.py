"""Support screens for the archive and the delivery engine's state. Everything is read-only:
payloads are what a client sent and what destinations receive, and jobs, breakers and counters
change only through delivery itself and the console's re-delivery (which audits it); a stuck
batch can be re-sent to routing."""

from django.contrib import admin, messages
from django.utils.html import format_html

from delivery import replays
from delivery.models import (
    DeliveryAck,
    DeliveryCounter,
    DeliveryError,
    DeliveryJob,
    Event,
    IngestBatch,
    IngestCounter,
    InstanceHealth,
    RedeliveryRun,
    RejectedMessage,
    Replay,
    ReplayedEvent,
    SeenMessage,
)
from delivery.pretty import pretty_text
from delivery.tasks import queue_routing
from segapp.admin import ReadOnlyAdmin
from segapp.refusal import Refusal


class ArchiveAdmin(ReadOnlyAdmin):
    # These tables grow without bound: skip the unfiltered COUNT(*) on every list page.
    show_full_result_count = False
    list_select_related = ["source"]
    list_per_page = 50

    class Media:
        css = {"all": ["delivery/admin.css"]}  # the CSP allows no inline styles

    @admin.display(description="payload")
    def pretty_payload(self, obj):
        return format_html('<pre class="payload">{}</pre>', pretty_text(obj.payload))


class RoutedFilter(admin.SimpleListFilter):
    title = "routed"
    parameter_name = "routed"

    def lookups(self, request, model_admin):
        return [("yes", "Routed"), ("no", "Not routed yet")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(routed_at__isnull=self.value() == "no")
        return queryset


@admin.register(IngestBatch)
class IngestBatchAdmin(ArchiveAdmin):
    list_display = [
        "id",
        "source",
        "received_at",
        "event_count",
        "duplicate_count",
        "rejected_count",
        "queued_at",
        "routed_at",
    ]
    list_filter = [RoutedFilter, "received_at"]
    search_fields = ["=id", "=source__id", "source__name"]
    actions = ["send_to_routing"]

    @admin.action(description="Send the selected unrouted batches to routing again")
    def send_to_routing(self, request, queryset):
        # Safe at any time: the routing task claims the batch and skips it once routed.
        ids = list(queryset.filter(routed_at__isnull=True).values_list("pk", flat=True))
        sent = sum(queue_routing(batch_id) for batch_id in ids)
        level = messages.SUCCESS if sent == len(ids) else messages.ERROR
        self.message_user(request, f"Sent {sent} of {len(ids)} unrouted batches.", level)


@admin.register(Event)
class EventAdmin(ArchiveAdmin):
    list_display = ["id", "type", "event_name", "user_id", "message_id", "source", "received_at"]
    list_filter = ["type", "received_at"]
    # Exact matches: a substring search would scan the whole archive.
    search_fields = ["=message_id", "=user_id", "=anonymous_id", "=event_name", "=batch__id"]
    exclude = ["payload"]
    readonly_fields = ["pretty_payload"]


@admin.register(RejectedMessage)
class RejectedMessageAdmin(ArchiveAdmin):
    list_display = ["id", "code", "reason", "type", "message_id", "source", "received_at"]
    list_filter = ["code", "type", "received_at"]
    search_fields = ["=message_id", "reason", "=batch__id"]
    exclude = ["payload"]
    readonly_fields = ["pretty_payload"]


@admin.register(SeenMessage)
class SeenMessageAdmin(ArchiveAdmin):
    list_display = ["message_id", "source", "received_at"]
    search_fields = ["=message_id"]
    list_filter = ["received_at"]


class EngineAdmin(ReadOnlyAdmin):
    """Rows the delivery engine keeps; searched by exact ids (the tables are large)."""

    show_full_result_count = False
    list_per_page = 50


@admin.register(DeliveryJob)
class DeliveryJobAdmin(EngineAdmin):
    list_display = ["id", "instance_id", "source_id", "batch_id", "replay_id", "state",
                    "attempts", "next_attempt_at", "lease_until", "last_error"]  # fmt: skip
    list_filter = ["state"]
    search_fields = ["=instance_id", "=source_id", "=batch__id", "=replay_id"]


@admin.register(DeliveryAck)
class DeliveryAckAdmin(EngineAdmin):
    list_display = ["id", "job_id", "event_id"]
    search_fields = ["=job_id"]


@admin.register(DeliveryError)
class DeliveryErrorAdmin(EngineAdmin):
    # Requests and answers were masked before they were stored (``deliveries._record_error``).
    list_display = ["id", "instance_id", "job_id", "outcome", "reason", "created_at"]
    list_filter = ["outcome"]
    search_fields = ["=instance_id", "=job_id"]


@admin.register(DeliveryCounter)
class DeliveryCounterAdmin(EngineAdmin):
    list_display = ["instance_id", "minute", "outcome", "reason", "count"]
    list_filter = ["outcome"]
    search_fields = ["=instance_id"]


@admin.register(IngestCounter)
class IngestCounterAdmin(EngineAdmin):
    list_display = ["source_id", "minute", "accepted", "rejected", "duplicates"]
    search_fields = ["=source_id"]


@admin.register(RedeliveryRun)
class RedeliveryRunAdmin(EngineAdmin):
    list_display = ["id", "instance_id", "state", "requested_by", "done_jobs", "total_jobs",
                    "events", "created_at", "finished_at"]  # fmt: skip
    list_filter = ["state"]
    search_fields = ["=instance_id", "requested_by"]


@admin.register(InstanceHealth)
class InstanceHealthAdmin(EngineAdmin):
    list_display = ["instance_id", "consecutive_failures", "open_until"]
    search_fields = ["=instance_id"]


@admin.register(Replay)
class ReplayAdmin(EngineAdmin):
    """Replays change only through the engine; support staff may cancel one, which goes through
    the same rule and audit as the console's Cancel."""

    list_display = ["id", "instance", "workspace", "status", "start_time", "end_time", "total",
                    "sent", "failed", "filtered", "skipped", "rate", "requested_by",
                    "created_at", "finished_at"]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["instance", "workspace"]
    search_fields = ["=id", "=instance__id", "instance__name", "workspace__name", "requested_by"]
    actions = ["cancel"]

    @admin.action(description="Cancel the selected replays")
    def cancel(self, request, queryset):
        cancelled = 0
        for replay in queryset:
            try:
                replays.cancel_replay(replay, request.user)
                cancelled += 1
            except Refusal as refusal:
                self.message_user(request, f"{replay.pk}: {refusal.message}", messages.ERROR)
        self.message_user(request, f"Cancelled {cancelled} replays.", messages.SUCCESS)


@admin.register(ReplayedEvent)
class ReplayedEventAdmin(EngineAdmin):
    list_display = ["id", "instance_id", "event_id"]
    search_fields = ["=instance_id", "=event_id"]
