from django.apps import AppConfig


class AnchoringConfig(AppConfig):
    name = "registry.anchoring"
    label = "anchoring"
