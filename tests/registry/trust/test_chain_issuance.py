"""A sub-issuer accredited through an office's chain issues real credentials; withdrawing the
office's accreditation stops it at once, and what it issued before keeps verifying."""

import time

import pytest
from django.utils import timezone

from registry.credentials.errors import IssuanceRefused
from registry.credentials.services import credential_issue, credential_verify
from registry.participants.services import participant_create
from registry.trust.services import accreditation_grant, accreditation_withdraw

from .factories import office

pytestmark = pytest.mark.django_db

REPRESENTATIVE = "IPRepresentativeCredential"


def issue(issuer, agent):
    return credential_issue(
        issuer=issuer,
        credential_type=REPRESENTATIVE,
        subject_did=agent.did.did,
        claims={"registrationNumber": "R-1", "office": "EP", "field": "patents"},
    )


def test_sub_issuer_issues_under_the_chain_until_it_is_withdrawn():
    ep = office("EP")
    root = accreditation_grant(office=ep, credential_types=[REPRESENTATIVE])
    chamber = participant_create(kind="agent", display_name="Chamber", country="FR")
    agent = participant_create(kind="agent", display_name="Jane Agent", country="FR")
    with pytest.raises(IssuanceRefused):
        issue(chamber, agent)  # not accredited yet
    accreditation_grant(office=chamber, credential_types=[REPRESENTATIVE], parent=root)
    credential = issue(chamber, agent)
    report = credential_verify(credential.document)
    assert report.verified, report.failed
    assert credential.document["issuer"]["registryDid"] == chamber.did.did

    time.sleep(1.05 - timezone.now().microsecond / 1e6)  # issuanceDate has second precision
    accreditation_withdraw(accreditation=root, reason="test")
    with pytest.raises(IssuanceRefused):
        issue(chamber, agent)
    assert credential_verify(credential.document).verified
