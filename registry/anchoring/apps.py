from django.apps import AppConfig


class AnchoringConfig(AppConfig):
    name = "registry.anchoring"
    label = "anchoring"
    verbose_name = "Anchoring log"

    def ready(self) -> None:
        from identity import services as identity_services

        from .hooks import anchor_did_version

        if anchor_did_version not in identity_services.version_listeners:
            identity_services.version_listeners.append(anchor_did_version)
