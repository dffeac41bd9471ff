"""Factories for trust tests: offices, sub-issuers, users and memberships (real DIDs)."""

from __future__ import annotations

import itertools

import factory
from django.contrib.auth import get_user_model

from registry.participants.models import Participant
from registry.participants.services import participant_create
from registry.trust.models import OfficeMembership
from tests.registry.participants.factories import FACTORY_ST3_CODES

_codes = itertools.count()


def _next_st3() -> str:
    # Real ST.3 codes that tests do not name, never those of OfficeFactory.
    codes = FACTORY_ST3_CODES[1::2]
    return codes[next(_codes) % len(codes)]


def office(code: str | None = None, name: str | None = None) -> Participant:
    code = code or _next_st3()
    return participant_create(
        kind=Participant.Kind.OFFICE,
        display_name=name or f"Office {code}",
        country=code,
        st3_code=code,
    )


def participant(kind: str = "agent", name: str = "Bar Association", user=None) -> Participant:
    return participant_create(kind=kind, display_name=name, country="FR", user=user)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")


def member(office_: Participant, role: str = OfficeMembership.Role.OFFICER, user=None):
    user = user or UserFactory()
    user.save()
    OfficeMembership.objects.create(user=user, office=office_, role=role)
    return user
