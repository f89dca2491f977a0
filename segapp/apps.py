from django.apps import AppConfig


class SegappConfig(AppConfig):
    name = "segapp"
    verbose_name = "Workspaces and accounts"

    def ready(self):
        from segapp import audit

        audit.register_workspace_types()
