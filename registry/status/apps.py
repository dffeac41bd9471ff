from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "registry.status"
    label = "status"
