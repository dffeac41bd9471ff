"""The issuance write path: what it asks of the database, and how a status index drawn before
the transaction is settled when another issuance took it first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from identity.crypto import didkit_adapter
from identity.services import did_key_rotate, did_signing_key
from registry.audit.models import AuditEvent
from registry.credentials.models import IssuedCredential
from registry.credentials.verification import credential_verify
from registry.status import services as status_services
from registry.status.models import StatusEntry
from registry.trust.services import accreditation_suspend

from .conftest import api_client, applicant_claims
from .test_issue_apis import issue

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("proof_format", ["ldp", "jwt"])
def test_an_api_issuance_is_six_reads_then_three_inserts_in_one_transaction(
    office, applicant, proof_format
):
    client = api_client(office)
    # The office's first issuance creates and publishes its status list (and stamps the key).
    assert issue(client, "IPApplicantCredential", applicant_claims(applicant)).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        response = issue(client, "IPApplicantCredential", applicant_claims(applicant), proof_format)
    assert response.status_code == 201, response.content
    sql = [q["sql"].split(" ", 1)[0].upper() for q in queries.captured_queries]
    # API key (with office and DID), accreditations, the subject (an active applicant?),
    # signing key, open status list, which of the drawn indexes are free; then one transaction
    # (a savepoint inside the test's own): status entry, credential, audit event.
    assert sql == ["SELECT"] * 6 + ["SAVEPOINT", "INSERT", "INSERT", "INSERT", "RELEASE"]


def test_a_status_index_taken_after_it_was_drawn_is_drawn_again_and_signed_again(
    office, applicant, monkeypatch
):
    client = api_client(office)
    first = issue(client, "IPApplicantCredential", applicant_claims(applicant), "jwt")
    assert first.status_code == 201
    ours = StatusEntry.objects.filter(status_list__issuer=office.did)
    taken = ours.get().index
    free = (taken + 1) % status_services.conf.list_size()
    # The first draw read `taken` as free: another issuance claimed it after that read.
    draws = iter([[taken], [free]])
    monkeypatch.setattr(status_services, "_free_candidates", lambda status_list, n: next(draws))

    response = issue(client, "IPApplicantCredential", applicant_claims(applicant))
    assert response.status_code == 201, response.content
    document = response.json()["verifiableCredential"]
    assert document["credentialStatus"]["statusListIndex"] == str(free)
    assert credential_verify(document).verified  # signed over the index it holds
    assert didkit_adapter.verify_credential(document).ok
    assert sorted(ours.values_list("index", flat=True)) == sorted([taken, free])
    assert IssuedCredential.objects.filter(issuer=office).count() == 2
    assert AuditEvent.objects.filter(action="credential.issue", office=office.st3_code).count() == 2


@override_settings(STATUS_LIST_SIZE=16)
def test_issuance_fills_a_list_without_sharing_an_index_then_rolls_over(office, applicant):
    client = api_client(office)
    # Drawn indexes are more and more often taken; once no draw offers a free one, the index is
    # allocated (and the credential signed) inside the transaction; a full list rolls over.
    for _ in range(20):
        response = issue(client, "IPApplicantCredential", applicant_claims(applicant), "jwt")
        assert response.status_code == 201, response.content
    entries = list(
        StatusEntry.objects.filter(status_list__issuer=office.did).values_list(
            "status_list_id", "index"
        )
    )
    assert len(entries) == len(set(entries)) == 20
    assert len({list_id for list_id, _ in entries}) == 2


@override_settings(STATUS_LIST_SIZE=64)
def test_issuance_into_a_nearly_full_list_signs_once(office, applicant, monkeypatch):
    client = api_client(office)
    for _ in range(60):
        response = issue(client, "IPApplicantCredential", applicant_claims(applicant), "jwt")
        assert response.status_code == 201, response.content
    signatures = []
    sign = didkit_adapter.issue_credential

    def counted(*args, **kwargs):
        signatures.append(1)
        return sign(*args, **kwargs)

    monkeypatch.setattr(didkit_adapter, "issue_credential", counted)
    # 60 of 64 indexes taken: a blind draw is taken 15 times in 16, and each one taken cost a
    # signature made for nothing. The draw is checked against the list before signing.
    for _ in range(3):
        response = issue(client, "IPApplicantCredential", applicant_claims(applicant))
        assert response.status_code == 201, response.content
    assert len(signatures) == 3
    assert StatusEntry.objects.filter(status_list__issuer=office.did).count() == 63


def test_rotation_and_suspension_take_effect_on_the_next_issuance(office, applicant):
    client = api_client(office)
    before = issue(client, "IPApplicantCredential", applicant_claims(applicant), "jwt")
    assert before.status_code == 201
    old_key, _ = did_signing_key(office.did)

    did_key_rotate(did=office.did)
    after = issue(client, "IPApplicantCredential", applicant_claims(applicant))
    assert after.status_code == 201
    new_key, _ = did_signing_key(office.did)
    assert (
        after.json()["verifiableCredential"]["issuer"]["id"] == new_key.did_key != old_key.did_key
    )

    accreditation = office.accreditations.get()
    accreditation_suspend(accreditation=accreditation, actor=None)
    refused = issue(client, "IPApplicantCredential", applicant_claims(applicant))
    assert refused.status_code == 403
    assert refused.json()["error"] == "notAccredited"
