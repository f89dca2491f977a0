"""The privacy layer in Django admin: support staff search and read it, and change it through the
same operations (and rules) as the console."""

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect

from privacy import controls, custom_matchers, inventory, matcher_rules, regulations
from privacy.models import (
    DataControl,
    DeletionStep,
    EncryptionKey,
    Field,
    FieldSighting,
    InstancePrivacy,
    Matcher,
    Regulation,
    Suppression,
)
from segapp.admin import ReadOnlyAdmin, RefusalAwareAdmin

# Data controls, destinations' privacy choices and the encryption key.


@admin.register(DataControl)
class DataControlAdmin(RefusalAwareAdmin):
    list_display = ["workspace", "category", "classification", "action", "updated_at"]
    search_fields = ["workspace__name", "workspace__slug", "category"]
    list_filter = ["classification", "action"]
    list_select_related = ["workspace"]
    fields = ["workspace", "category", "classification", "action"]
    autocomplete_fields = ["workspace"]

    def save_model(self, request, obj, form, change):
        self.save_or_refuse(
            request,
            lambda: controls.set_control(
                obj.workspace, obj.category, obj.classification, obj.action, request.user
            ),
        )

    # Deleting a control is going back to the default (``controls.reset_control``).
    delete_operation = staticmethod(lambda obj, actor: controls.reset_control(obj, actor))


@admin.register(InstancePrivacy)
class InstancePrivacyAdmin(RefusalAwareAdmin):
    list_display = ["instance", "red_allowed", "yellow_protection", "updated_at"]
    search_fields = ["instance__id", "instance__name", "instance__source__name"]
    list_filter = ["red_allowed", "yellow_protection"]
    list_select_related = ["instance"]
    fields = ["instance", "red_allowed", "yellow_protection"]
    raw_id_fields = ["instance"]

    def get_readonly_fields(self, request, obj=None):
        return ["instance"] if obj else []

    def save_model(self, request, obj, form, change):
        self.save_or_refuse(
            request,
            lambda: controls.set_instance_privacy(
                obj.instance, obj.red_allowed, obj.yellow_protection, request.user
            ),
        )

    def has_delete_permission(self, request, obj=None):
        return False  # set both choices back instead: the change is audited


@admin.register(EncryptionKey)
class EncryptionKeyAdmin(RefusalAwareAdmin):
    list_display = ["workspace", "bits", "fingerprint", "uploaded_at", "uploaded_by"]
    search_fields = ["workspace__name", "workspace__slug", "fingerprint"]
    list_select_related = ["workspace", "uploaded_by"]
    fields = ["workspace", "public_key_pem", "bits", "fingerprint", "uploaded_at", "uploaded_by"]
    readonly_fields = ["bits", "fingerprint", "uploaded_at", "uploaded_by"]
    autocomplete_fields = ["workspace"]

    def save_model(self, request, obj, form, change):
        self.save_or_refuse(
            request, lambda: controls.set_key(obj.workspace, obj.public_key_pem, request.user)
        )

    def has_delete_permission(self, request, obj=None):
        return False  # destinations may encrypt under it: a key is replaced, never removed


# Regulations: end users' suppression and deletion (``privacy.regulations``).


class RegulationAddForm(forms.ModelForm):
    """A new regulation's choices; ``privacy.regulations`` checks them and carries it out."""

    subjects = forms.CharField(
        label="User ids", widget=forms.Textarea(attrs={"rows": 4}), help_text="One per line."
    )

    class Meta:
        model = Regulation
        fields = ["workspace", "source", "regulation_type", "subject_type"]


class DeletionStepInline(admin.TabularInline):
    model = DeletionStep
    extra = 0
    fields = ["system", "label", "status", "deleted", "attempts", "error", "started_at",
              "finished_at"]  # fmt: skip
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Regulation)
class RegulationAdmin(RefusalAwareAdmin):
    """Searchable by id and user id; read-only once made, as its effects are carried out."""

    list_display = ["id", "regulation_type", "workspace", "source", "status", "created_at",
                    "finished_at"]  # fmt: skip
    search_fields = ["id", "subject_ids", "workspace__name", "workspace__slug"]
    list_filter = ["regulation_type", "status"]
    list_select_related = ["workspace", "source"]
    autocomplete_fields = ["workspace"]
    raw_id_fields = ["source"]
    inlines = [DeletionStepInline]
    readonly = ["id", "workspace", "source", "regulation_type", "subject_type", "subject_ids",
                "status", "requested_by", "created_at", "finished_at"]  # fmt: skip

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # a new regulation's steps are the rules' to plan

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RegulationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["workspace", "source", "regulation_type", "subject_type", "subjects"]
        return self.readonly

    def get_readonly_fields(self, request, obj=None):
        return self.readonly if obj else []

    def save_model(self, request, obj, form, change):
        def create():
            made = regulations.create_regulation(
                obj.workspace, request.user,
                regulation_type=obj.regulation_type, subject_type=obj.subject_type,
                subject_ids=[s.strip() for s in form.cleaned_data["subjects"].splitlines()
                             if s.strip()],
                source=obj.source,
            )  # fmt: skip
            obj.pk = made.pk  # the admin's "added" message and redirect name the real one

        self.save_or_refuse(request, create)

    def save_related(self, request, form, formsets, change):
        pass  # the steps are the rules' to plan

    def response_add(self, request, obj, post_url_continue=None):
        """A refused regulation stays on the add page, showing the refusal."""
        if getattr(request, "admin_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    # Withdrawing one that has not started; the rule refuses once it has.
    delete_operation = staticmethod(regulations.remove_regulation)


@admin.register(Suppression)
class SuppressionAdmin(ReadOnlyAdmin):
    """Read-only: a suppression comes and goes with a regulation."""

    list_display = ["user_id", "workspace", "source", "regulation", "created_at"]
    search_fields = ["user_id", "workspace__name", "workspace__slug"]
    list_select_related = ["workspace", "source"]


@admin.register(DeletionStep)
class DeletionStepAdmin(ReadOnlyAdmin):
    list_display = ["regulation", "system", "label", "status", "deleted", "attempts",
                    "finished_at"]  # fmt: skip
    search_fields = ["regulation__id", "system", "label", "error"]
    list_filter = ["status"]
    list_select_related = ["regulation"]


# Privacy Portal: fields, where they were seen, and custom matchers.


class FieldSightingInline(admin.TabularInline):
    model = FieldSighting
    extra = 0
    fields = ["source", "event", "count", "last_seen_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Field)
class FieldAdmin(RefusalAwareAdmin):
    """Only the classification changes here, through ``privacy.inventory`` (audited, and routing
    picks it up); discovery adds fields."""

    list_display = ["path", "workspace", "classification", "suggested", "suggested_by",
                    "last_seen_at"]  # fmt: skip
    search_fields = ["path", "workspace__name", "workspace__slug"]
    list_filter = ["classification", "suggested"]
    list_select_related = ["workspace"]
    fields = ["workspace", "path", "classification", "suggested", "suggested_by",
              "first_seen_at", "last_seen_at", "classified_at", "classified_by"]  # fmt: skip
    readonly_fields = ["workspace", "path", "suggested", "suggested_by", "first_seen_at",
                       "last_seen_at", "classified_at", "classified_by"]  # fmt: skip
    inlines = [FieldSightingInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # discovery would add it again; return it to the Inbox instead

    def save_model(self, request, obj, form, change):
        workspace = Field.objects.select_related("workspace").get(pk=obj.pk).workspace

        def save():
            if obj.classification:
                inventory.classify(workspace, request.user, [obj.pk], obj.classification)
            else:
                inventory.return_to_inbox(workspace, request.user, [obj.pk])

        self.save_or_refuse(request, save)


@admin.register(FieldSighting)
class FieldSightingAdmin(ReadOnlyAdmin):
    list_display = ["field", "source", "event", "count", "last_seen_at"]
    search_fields = ["field__path", "event", "source__name", "source__id"]
    list_select_related = ["field", "source"]


class MatcherAdminForm(forms.ModelForm):
    """Shows the matcher rules' refusal on the form, before the operation checks them again."""

    class Meta:
        model = Matcher
        fields = ["workspace", "name", "classification", "match_on", "pattern"]

    def clean(self):
        data = super().clean()
        workspace = data.get("workspace") or getattr(self.instance, "workspace", None)
        if workspace is None or self.errors:
            return data
        others = Matcher.objects.filter(workspace=workspace).exclude(pk=self.instance.pk)
        refusal = None
        if self.instance.pk is None:
            refusal = matcher_rules.refuse_another_matcher(others.count())
        proposal = matcher_rules.Proposal(
            data["name"].strip(), data["classification"], data["match_on"], data["pattern"].strip()
        )
        refusal = refusal or matcher_rules.refuse_matcher(
            proposal, others.values_list("name", flat=True)
        )
        if refusal is not None:
            self.add_error(refusal.field if refusal.field in self.fields else None, refusal.message)
        return data


@admin.register(Matcher)
class MatcherAdmin(RefusalAwareAdmin):
    form = MatcherAdminForm
    list_display = ["name", "workspace", "classification", "match_on", "pattern", "created_at"]
    search_fields = ["name", "pattern", "workspace__name", "workspace__slug"]
    list_filter = ["classification", "match_on"]
    list_select_related = ["workspace"]
    autocomplete_fields = ["workspace"]

    def get_readonly_fields(self, request, obj=None):
        return ["workspace"] if obj else []

    def save_model(self, request, obj, form, change):
        values = {
            k: form.cleaned_data[k] for k in ("name", "classification", "match_on", "pattern")
        }

        def save():
            if change:
                current = Matcher.objects.select_related("workspace").get(pk=obj.pk)
                custom_matchers.update_matcher(current, request.user, **values)
            else:
                obj.pk = custom_matchers.create_matcher(obj.workspace, request.user, **values).pk

        self.save_or_refuse(request, save)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "admin_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    delete_operation = staticmethod(custom_matchers.delete_matcher)
