from django.apps import AppConfig


class SegappConfig(AppConfig):
    name = "segapp"
    verbose_name = "Workspaces and accounts"
