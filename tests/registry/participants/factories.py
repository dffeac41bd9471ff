"""Participants made through `participant_create`, as in production (each gets a DID and a key)."""

from __future__ import annotations

import factory

from registry.participants.models import Participant
from registry.participants.services import participant_create
from registry.participants.st3 import st3_codes

# Real ST.3 codes for factory offices, without those tests and the demo data name themselves (so
# a test can add "EP" beside factory offices). Even places here, odd ones in the trust factory:
# the two never hand out the same code.
CODES_TESTS_NAME = {"CH", "CN", "DE", "EM", "EP", "FR", "GB", "JP", "KR", "QZ", "US", "WO", "XX"}
FACTORY_ST3_CODES = [code for code in st3_codes() if code not in CODES_TESTS_NAME]


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
    # Unique per test: over a hundred codes before the sequence comes round again.
    st3_code = factory.Sequence(lambda n: FACTORY_ST3_CODES[::2][n % len(FACTORY_ST3_CODES[::2])])
    country = factory.SelfAttribute("st3_code")
    display_name = factory.Sequence(lambda n: f"Test Office {n}")


class ApplicantFactory(ParticipantFactory):
    kind = Participant.Kind.APPLICANT
    display_name = factory.Sequence(lambda n: f"Applicant {n} Ltd")
