from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        from django.db.models.signals import post_save

        from privacy import audit_types
        from privacy.versions import workspace_saved
        from segapp.models import Workspace

        audit_types.register()
        # HIPAA eligibility (set in admin) decides whether Yellow fields can be encrypted.
        post_save.connect(workspace_saved, sender=Workspace, dispatch_uid="privacy-workspace")
