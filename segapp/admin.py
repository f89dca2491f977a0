"""Support screens. Changes go through the same operations as the console, so the same rules
apply and every change is audited; what is not safe to change is read-only here."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from segapp import tokens, workspaces
from segapp.forms import AdminSignInForm
from segapp.models import (
    ApiToken,
    AuditEntry,
    Invitation,
    Membership,
    SignInFailures,
    Sweep,
    User,
    WorkerHeartbeat,
    WorkerPing,
    Workspace,
)
from segapp.refusal import Refusal

# The admin's sign-in counts against the same throttle as the console's.
admin.site.login_form = AdminSignInForm


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefusalAwareAdmin(admin.ModelAdmin):
    """Shows a rule's refusal as an error message instead of a server error."""

    # The operation that deletes one object and audits it, e.g. ``instances.delete_instance``;
    # the admin's delete and bulk delete both go through it.
    delete_operation = None

    def delete_model(self, request, obj):
        if self.delete_operation is None:
            return super().delete_model(request, obj)
        self.save_or_refuse(request, lambda: self.delete_operation(obj, request.user))

    def get_deleted_objects(self, objs, request):
        """With a delete operation, records that go with the object (its settings history,
        say) follow it even where their own admin is read-only: the operation decides."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set() if self.delete_operation else perms_needed, protected

    def delete_queryset(self, request, queryset):
        if self.delete_operation is None:
            return super().delete_queryset(request, queryset)
        deleted = 0
        for obj in queryset:
            request.admin_refused = False
            self.delete_model(request, obj)
            deleted += not request.admin_refused
        request.admin_refused = deleted < len(queryset)
        if request.admin_refused and deleted:
            self.message_user(request, f"Deleted {deleted}; the others were refused.")

    def save_or_refuse(self, request, action):
        """Runs ``action`` (one or more operations) all-or-nothing."""
        try:
            with transaction.atomic():
                action()
        except Refusal as refusal:
            request.admin_refused = True
            self.message_user(request, refusal.message, messages.ERROR)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        # Django reports success after save_model and delete_model return; a refused change
        # was not made, so only the refusal is shown.
        if getattr(request, "admin_refused", False) and level == messages.SUCCESS:
            return
        super().message_user(request, message, level, *args, **kwargs)

    def response_change(self, request, obj):
        """A refused change stays on the object's page, showing the refusal."""
        if getattr(request, "admin_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        """A refused delete returns to the object, which is still there."""
        if getattr(request, "admin_refused", False):
            opts = self.model._meta
            change = f"admin:{opts.app_label}_{opts.model_name}_change"
            return HttpResponseRedirect(reverse(change, args=[obj_id]))
        return super().response_delete(request, obj_display, obj_id)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "last_login", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Workspace)
class WorkspaceAdmin(RefusalAwareAdmin):
    list_display = ["name", "slug", "id", "plan", "hipaa_eligible", "created_at"]
    search_fields = ["name", "slug", "id"]
    list_filter = ["plan", "hipaa_eligible"]
    readonly_fields = ["id", "slug", "created_at"]
    fields = ["id", "name", "slug", "plan", "retention_days", "hipaa_eligible", "created_at"]
    inlines = [MembershipInline]

    def has_add_permission(self, request):
        return False  # a workspace starts with an owner: created from the console or `bootstrap`

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fresh = Workspace.objects.get(pk=obj.pk)
        self.save_or_refuse(
            request,
            lambda: workspaces.update_workspace(
                fresh,
                request.user,
                name=obj.name,
                plan=obj.plan,
                retention_days=obj.retention_days,
                hipaa_eligible=obj.hipaa_eligible,
            ),
        )


@admin.register(Membership)
class MembershipAdmin(RefusalAwareAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    search_fields = ["user__email", "workspace__name", "workspace__slug"]
    list_filter = ["role"]
    list_select_related = ["user", "workspace"]
    autocomplete_fields = ["user", "workspace"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "workspace", "created_at"] if obj else ["created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            current = Membership.objects.get(pk=obj.pk)
            self.save_or_refuse(
                request, lambda: workspaces.change_member_role(current, obj.role, request.user)
            )
        else:
            self.save_or_refuse(
                request,
                lambda: workspaces.add_member(
                    obj.workspace, obj.user.email, obj.role, request.user
                ),
            )

    delete_operation = staticmethod(workspaces.remove_member)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "description",
        "workspace",
        "role",
        "hint",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    search_fields = ["description", "workspace__name", "workspace__slug", "hint", "id"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["workspace"]
    fields = [
        "id",
        "workspace",
        "description",
        "role",
        "hint",
        "token_hash",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.select_related("workspace"):
            tokens.revoke_token(token, request.user)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Who was invited by which workspace, and whether they accepted. The link itself is never
    shown (only its hash is stored, and that is left out too): a new one is issued from the
    inviting workspace's Members page, to its owner."""

    list_display = ["user", "workspace", "invited_by", "created_at", "expires_at", "accepted_at"]
    search_fields = ["user__email", "workspace__name", "workspace__slug", "invited_by__email"]
    list_filter = [("accepted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "workspace", "invited_by"]
    fields = [
        "user",
        "workspace",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "superseded_at",
    ]


@admin.register(SignInFailures)
class SignInFailuresAdmin(ReadOnlyAdmin):
    """Throttled accounts and addresses; deleting a row lifts its lock at once."""

    list_display = ["key", "failures", "last_failure_time"]
    search_fields = ["key"]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "workspace",
        "actor_label",
        "action",
        "object_type",
        "object_label",
    ]
    search_fields = ["actor_label", "action", "object_id", "object_label", "workspace__name"]
    list_filter = ["action", "object_type"]
    list_select_related = ["workspace"]
    date_hierarchy = "created_at"


@admin.register(WorkerPing)
class WorkerPingAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "workspace",
        "requested_by_pid",
        "handled_at",
        "handled_by_pid",
        "handled_by_host",
    ]
    search_fields = ["workspace__name", "handled_by_host"]
    list_filter = [("handled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["workspace"]


@admin.register(Sweep)
class SweepAdmin(ReadOnlyAdmin):
    """Written by the workers' sweep tickers; support reads it, nobody edits it."""

    list_display = ["name", "last_started_at", "last_finished_at", "lease_until", "holder"]
    search_fields = ["name", "holder"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "pid", "seen_at"]
    search_fields = ["hostname"]
