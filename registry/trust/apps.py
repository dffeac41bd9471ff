from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "registry.trust"
    label = "trust"
