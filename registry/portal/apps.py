from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "registry.portal"
    label = "portal"
