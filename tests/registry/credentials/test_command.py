from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from registry.credentials.models import IssuedCredential
from registry.credentials.verification import credential_verify

from .conftest import applicant_claims, mandate_claims

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("issue_credential", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_command_issues_through_the_service(office, applicant):
    printed = run(
        "--issuer",
        office.st3_code,
        "--type",
        "IPApplicantCredential",
        "--claims",
        json.dumps(applicant_claims(applicant)),
    )
    document = json.loads(printed)
    record = IssuedCredential.objects.get(credential_id=document["id"])
    assert record.issued_by == "command:issue_credential"
    assert record.subject_did == applicant.did.did
    assert credential_verify(document).verified


def test_command_issues_a_jwt_mandate_for_an_applicant(applicant, agent):
    token = run(
        "--issuer",
        applicant.did.did,
        "--type",
        "IPMandateCredential",
        "--format",
        "jwt",
        "--claims",
        json.dumps(mandate_claims(agent)),
    ).strip()
    assert token.count(".") == 2
    assert credential_verify(token).verified


def test_command_reports_refusals(applicant):
    from tests.registry.trust.factories import office as make_office

    unaccredited = make_office()
    with pytest.raises(CommandError, match="not accredited"):
        run(
            "--issuer",
            unaccredited.st3_code,
            "--type",
            "IPApplicantCredential",
            "--claims",
            json.dumps(applicant_claims(applicant)),
        )
    with pytest.raises(CommandError, match="claims"):
        run("--issuer", unaccredited.st3_code, "--type", "IPApplicantCredential", "--claims", "[")
