from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "registry.participants"
    label = "participants"
    verbose_name = "Participants"
