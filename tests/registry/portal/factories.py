"""Portal test data made through the real services (users, participants with DIDs, offices,
accreditations, office memberships)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from registry.participants.models import Participant
from registry.participants.services import office_upsert, participant_create
from registry.portal.models import APPLICANT_CREDENTIAL, REPRESENTATIVE_CREDENTIAL
from registry.trust.models import OfficeMembership
from registry.trust.services import accreditation_grant

PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count()


def user(email: str | None = None, *, password: str = PASSWORD, **extra):
    n = next(_seq)
    email = email or f"person{n}@example.org"
    return get_user_model().objects.create_user(
        username=email.lower(), email=email, password=password, **extra
    )


def applicant(name: str = "Acme Robotics GmbH", *, email: str | None = None, country="DE"):
    u = user(email)
    return participant_create(kind="applicant", display_name=name, country=country, user=u)


def agent(name: str = "Dupont & Lefèvre", *, email: str | None = None, country="FR"):
    u = user(email)
    return participant_create(kind="agent", display_name=name, country=country, user=u)


def office(code: str = "EP", name: str = "European Patent Office", *, accredited: bool = True):
    o, _ = office_upsert(st3_code=code, name=name, country=code)
    if accredited:
        # From a minute ago: credentials carry issuanceDate to the second, and the verifier
        # checks the issuer was accredited at that (truncated) time.
        accreditation_grant(
            office=o,
            credential_types=[APPLICANT_CREDENTIAL, REPRESENTATIVE_CREDENTIAL],
            valid_from=timezone.now() - timedelta(minutes=1),
        )
    return o


def officer(office_: Participant, *, email: str | None = None, role=OfficeMembership.Role.OFFICER):
    u = user(email)
    OfficeMembership.objects.create(user=u, office=office_, role=role)
    return u
