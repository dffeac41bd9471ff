from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "registry.credentials"
    label = "credentials"
