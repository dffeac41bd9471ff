"""Participants made through `participant_create`, as in production (each gets a DID and a key)."""

from __future__ import annotations

import factory

from registry.participants.models import Participant
from registry.participants.services import participant_create


class ParticipantFactory(factory.Factory):
    class Meta:
        model = Participant

    kind = Participant.Kind.AGENT
    display_name = factory.Sequence(lambda n: f"Agent {n} & Partners")
    country = "FR"
    st3_code = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return participant_create(**kwargs)


class OfficeFactory(ParticipantFactory):
    kind = Participant.Kind.OFFICE
    # Two letters, unique per test: AA, AB, ... (no real office codes, so tests can add those).
    st3_code = factory.Sequence(lambda n: "Q" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 26])
    country = factory.SelfAttribute("st3_code")
    display_name = factory.Sequence(lambda n: f"Test Office {n}")


class ApplicantFactory(ParticipantFactory):
    kind = Participant.Kind.APPLICANT
    display_name = factory.Sequence(lambda n: f"Applicant {n} Ltd")
