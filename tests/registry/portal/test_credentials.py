"""Credential requests: an applicant or agent asks, an officer approves (issuing through the
credential service) or rejects, downloads work, status changes go through the status service
and the API's verifier sees them."""

import json

import pytest
from django.db import connection
from django.urls import reverse

from registry.credentials.models import IssuedCredential
from registry.participants.services import participant_deactivate
from registry.portal.models import CredentialRequest
from registry.trust.models import OfficeMembership

from . import factories
from .pages import form_key, form_key_in, post_at_once

pytestmark = pytest.mark.django_db

APPLICANT_FORM = {
    "office": "EP — European Patent Office",
    "name": "Alice Inventions SARL",
    "person_type": "legal",
    "country": "fr",
    "address": "1 rue de la Paix, 75002 Paris",
    "lei": "",
    "party_identifier": "EP-PARTY-42",
}


def _request(client, participant, **data):
    client.force_login(participant.user)
    url = reverse("portal:request-new")
    return client.post(url, {**APPLICANT_FORM, "form_key": form_key(client, url), **data})


def _approve(client, officer, request_pk, capture):
    client.force_login(officer)
    with capture(execute=True):
        return client.post(
            reverse("portal:office-request", args=[request_pk]), {"action": "approve"}
        )


def _verify_api(client, document):
    response = client.post(
        reverse("credentials-verify"),
        data=json.dumps({"verifiableCredential": document}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_request_form_pages(client, alice, carol, ep):
    client.force_login(alice.user)
    page = client.get(reverse("portal:request-new")).content.decode()
    assert "IPApplicantCredential" in page
    assert 'name="person_type"' in page
    assert "EP — European Patent Office" in page  # datalist of offices
    client.force_login(carol.user)
    page = client.get(reverse("portal:request-new")).content.decode()
    assert 'name="registration_number"' in page
    assert 'name="person_type"' not in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"office": "Nowhere Office"}, "office"),
        ({"person_type": "robot"}, "person_type"),
        ({"country": "France"}, "country"),
        ({"address": ""}, "address"),
        ({"lei": "123"}, "lei"),
    ],
)
def test_request_validation(client, alice, ep, change, field):
    response = _request(client, alice, **change)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CredentialRequest.objects.exists()


def test_a_lei_with_wrong_check_digits_is_refused(client, alice, ep):
    response = _request(client, alice, lei="969500T3MBS4SQAMHJ45")  # ...98 is the real one
    assert response.status_code == 200
    assert "check digits" in str(response.context["form"].errors)
    assert not CredentialRequest.objects.exists()
    _request(client, alice, lei="969500t3mbs4sqamhj98")
    assert CredentialRequest.objects.get().claims["lei"] == "969500T3MBS4SQAMHJ98"


def test_office_found_by_code_or_name(client, alice, ep, us):
    assert _request(client, alice, office="us").status_code == 302
    assert CredentialRequest.objects.get().office == us
    assert _request(client, alice, office="european patent").status_code == 302
    assert CredentialRequest.objects.filter(office=ep).exists()


def test_duplicate_pending_request_is_refused(client, alice, ep):
    assert _request(client, alice).status_code == 302
    response = _request(client, alice)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert CredentialRequest.objects.count() == 1


def test_approve_issues_both_formats_and_they_verify_then_revocation_fails_them(
    client, alice, ep, ep_officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _request(client, alice)
    req = CredentialRequest.objects.get()
    assert req.claims["partyIdentifiers"] == [{"office": "EP", "partyIdentifier": "EP-PARTY-42"}]
    assert req.claims["country"] == "FR"

    # The officer sees it in the queue and approves it.
    client.force_login(ep_officer)
    queue = client.get(reverse("portal:office-queue", args=["EP"])).content.decode()
    assert "Alice Inventions SARL" in queue
    response = _approve(client, ep_officer, req.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == "approved"
    ldp = IssuedCredential.objects.get(credential_id=req.ldp_credential_id)
    jwt = IssuedCredential.objects.get(credential_id=req.jwt_credential_id)
    assert ldp.subject_did == alice.did.did == jwt.subject_did
    assert ldp.document["credentialSubject"]["name"] == "Alice Inventions SARL"
    assert isinstance(jwt.document, str)
    assert jwt.document.count(".") == 2

    # The applicant sees the credential and downloads both formats.
    client.force_login(alice.user)
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert "IPApplicantCredential" in dashboard
    page = client.get(reverse("portal:credential-detail", args=[ldp.credential_id]))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    download = client.get(reverse("portal:credential-download", args=[ldp.credential_id, "jsonld"]))
    assert download["Content-Type"].startswith("application/ld+json")
    document = json.loads(download.content)
    token = client.get(
        reverse("portal:credential-download", args=[ldp.credential_id, "jwt"])
    ).content.decode()
    assert token == jwt.document

    first = _verify_api(client, document)
    assert first["verified"] is True, first
    assert _verify_api(client, token)["verified"] is True

    # The officer revokes it from the office's list: both formats stop verifying.
    client.force_login(ep_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:office-credential-status", args=["EP", ldp.credential_id]),
            {"action": "revoke"},
        )
    assert response.status_code == 302
    result = _verify_api(client, document)
    assert result["verified"] is False
    assert result["results"]["status"]["ok"] is False
    assert _verify_api(client, token)["verified"] is False
    client.force_login(alice.user)
    page = client.get(reverse("portal:credential-detail", args=[ldp.credential_id])).content
    assert b'id="credential-state">revoked' in page


def test_suspendable_credential_is_suspended_and_reinstated_and_others_refuse(
    client, carol, ep, ep_officer, django_capture_on_commit_callbacks
):
    from registry.portal.selectors import credential_states, suspendable_ids

    def request(number):
        client.force_login(carol.user)
        url = reverse("portal:request-new")
        client.post(
            url,
            {
                "office": "EP",
                "registration_number": number,
                "field": "patents",
                "form_key": form_key(client, url),
            },
        )
        return CredentialRequest.objects.order_by("-pk").first()

    suspendable_req = request("EPA-12345")
    assert suspendable_req.credential_type == "IPRepresentativeCredential"
    assert suspendable_req.claims == {
        "registrationNumber": "EPA-12345",
        "office": "EP",
        "field": "patents",
    }
    client.force_login(ep_officer)
    page = client.get(reverse("portal:office-request", args=[suspendable_req.pk])).content
    assert b'name="suspendable"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("portal:office-request", args=[suspendable_req.pk]),
            {"action": "approve", "suspendable": "on"},
        )
    plain_req = request("EPA-67890")
    assert plain_req.pk != suspendable_req.pk
    _approve(client, ep_officer, plain_req.pk, django_capture_on_commit_callbacks)
    suspendable_req.refresh_from_db()
    plain_req.refresh_from_db()
    assert set(suspendable_ids(suspendable_req.credential_ids)) == set(
        suspendable_req.credential_ids
    )
    assert not suspendable_ids(plain_req.credential_ids)
    page = client.get(reverse("portal:office-credentials", args=["EP"])).content.decode()
    assert 'value="suspend"' in page

    document = IssuedCredential.objects.get(credential_id=suspendable_req.ldp_credential_id)
    url = reverse("portal:office-credential-status", args=["EP", suspendable_req.ldp_credential_id])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "suspend"})
    assert set(credential_states(suspendable_req.credential_ids).values()) == {"suspended"}
    result = _verify_api(client, document.document)
    assert result["verified"] is False
    assert result["results"]["status"]["ok"] is False
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "reinstate"})
    assert set(credential_states(suspendable_req.credential_ids).values()) == {"active"}
    assert _verify_api(client, document.document)["verified"] is True

    # A credential approved without "allow suspension" can be revoked, not suspended.
    plain_url = reverse("portal:office-credential-status", args=["EP", plain_req.ldp_credential_id])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(plain_url, {"action": "suspend"}, follow=True)
    assert "not suspended" in response.content.decode()
    assert set(credential_states(plain_req.credential_ids).values()) == {"active"}


def test_reject_shows_reason_to_requester(client, alice, ep, ep_officer):
    _request(client, alice)
    req = CredentialRequest.objects.get()
    client.force_login(ep_officer)
    response = client.post(
        reverse("portal:office-request", args=[req.pk]), {"action": "reject", "reason": ""}
    )
    assert response.status_code == 200  # a reason is required
    req.refresh_from_db()
    assert req.state == "pending"
    client.post(
        reverse("portal:office-request", args=[req.pk]),
        {"action": "reject", "reason": "Address does not match our records."},
    )
    req.refresh_from_db()
    assert req.state == "rejected"
    client.force_login(alice.user)
    page = client.get(reverse("portal:request-detail", args=[req.pk])).content.decode()
    assert "Address does not match our records." in page
    # A decided request cannot be approved afterwards.
    client.force_login(ep_officer)
    client.post(reverse("portal:office-request", args=[req.pk]), {"action": "approve"})
    req.refresh_from_db()
    assert req.state == "rejected"
    assert not IssuedCredential.objects.filter(subject_did=alice.did.did).exists()


def test_unaccredited_office_cannot_approve(client, alice, django_capture_on_commit_callbacks):
    jp = factories.office("JP", "Japan Patent Office", accredited=False)
    officer = factories.officer(jp)
    _request(client, alice, office="JP")
    req = CredentialRequest.objects.get()
    response = _approve(client, officer, req.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "not accredited" in response.content.decode()
    req.refresh_from_db()
    assert req.state == "pending"
    assert not IssuedCredential.objects.filter(subject_did=alice.did.did).exists()


def test_an_officer_cannot_decide_their_own_request(
    client, alice, ep, ep_officer, django_capture_on_commit_callbacks
):
    # An office admin can make any active user an officer: alice's own account joins EP.
    OfficeMembership.objects.create(user=alice.user, office=ep, role=OfficeMembership.Role.OFFICER)
    _request(client, alice)
    req = CredentialRequest.objects.get()
    for action in ({"action": "approve"}, {"action": "reject", "reason": "no"}):
        client.force_login(alice.user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("portal:office-request", args=[req.pk]), action)
        assert response.status_code == 200
        assert "another officer of the office must decide it" in response.content.decode()
        req.refresh_from_db()
        assert req.state == "pending"
    assert not IssuedCredential.objects.filter(subject_did=alice.did.did).exists()
    # Another officer decides it.
    _approve(client, ep_officer, req.pk, django_capture_on_commit_callbacks)
    req.refresh_from_db()
    assert req.state == "approved"
    assert req.decided_by == ep_officer


def test_a_request_whose_requester_was_deactivated_is_not_approved(
    client, alice, ep, ep_officer, django_capture_on_commit_callbacks
):
    _request(client, alice)
    req = CredentialRequest.objects.get()
    participant_deactivate(participant=alice)
    response = _approve(client, ep_officer, req.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "deactivated" in response.content.decode()
    req.refresh_from_db()
    assert req.state == "pending"
    assert not IssuedCredential.objects.filter(subject_did=alice.did.did).exists()


def test_a_multiline_address_from_the_form_is_approved_with_plain_line_feeds(
    client, alice, ep, ep_officer, django_capture_on_commit_callbacks
):
    # A textarea sends CRLF; issuance refuses a bare carriage return among control characters.
    _request(client, alice, address="1 rue de l'Invention\r\n75001 Paris")
    req = CredentialRequest.objects.get()
    response = _approve(client, ep_officer, req.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 302, response.content.decode()[:2000]
    issued = IssuedCredential.objects.filter(subject_did=alice.did.did, proof_format="ldp").get()
    assert issued.document["credentialSubject"]["address"] == "1 rue de l'Invention\n75001 Paris"


@pytest.mark.parametrize("field", ["name", "address", "party_identifier"])
def test_text_that_displays_as_something_else_is_refused_at_request_time(client, alice, ep, field):
    response = _request(client, alice, **{field: "Acme\u202eLtd"})
    assert response.status_code == 200
    assert "bidirectional characters" in response.content.decode()
    assert not CredentialRequest.objects.exists()


def test_withdraw(client, alice, ep):
    _request(client, alice)
    req = CredentialRequest.objects.get()
    client.post(reverse("portal:request-withdraw", args=[req.pk]))
    req.refresh_from_db()
    assert req.state == "withdrawn"


def test_dashboard_query_count_does_not_grow_with_credentials(client, alice, ep):
    from registry.credentials.services import credential_issue

    claims = {"name": "Alice", "personType": "legal", "country": "FR", "address": "Paris"}

    def dashboard_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client.force_login(alice.user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("portal:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    credential_issue(
        issuer=ep, credential_type="IPApplicantCredential", subject_did=alice.did.did, claims=claims
    )
    one = dashboard_queries()
    for _ in range(4):
        credential_issue(
            issuer=ep,
            credential_type="IPApplicantCredential",
            subject_did=alice.did.did,
            claims=claims,
        )
    assert dashboard_queries() == one


def test_expired_credential_shows_expired(client, alice, ep):
    import datetime as dt

    from django.utils import timezone

    from registry.credentials.services import credential_issue

    issued = credential_issue(
        issuer=ep,
        credential_type="IPApplicantCredential",
        subject_did=alice.did.did,
        claims={"name": "Alice", "personType": "legal", "country": "FR", "address": "Paris"},
        expiration_date=timezone.now() + dt.timedelta(days=1),
    )
    IssuedCredential.objects.filter(pk=issued.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    client.force_login(alice.user)
    page = client.get(reverse("portal:credential-detail", args=[issued.credential_id])).content
    assert b'id="credential-state">expired' in page


def test_the_same_request_form_sent_twice_files_one_request(client, alice, ep):
    client.force_login(alice.user)
    url = reverse("portal:request-new")
    data = {**APPLICANT_FORM, "form_key": form_key(client, url)}
    assert client.post(url, data).status_code == 302
    req = CredentialRequest.objects.get()
    # A double click, or the browser sending the page again: the same rendering, the same key.
    again = client.post(url, data, follow=True)
    assert CredentialRequest.objects.count() == 1
    assert again.redirect_chain[-1][0] == reverse("portal:request-detail", args=[req.pk])
    assert "This form was already sent: here is your request, sent once." in again.content.decode()


def test_a_request_form_changed_and_sent_again_asks_before_filing_another(client, alice, ep, us):
    client.force_login(alice.user)
    url = reverse("portal:request-new")
    key = form_key(client, url)
    client.post(url, {**APPLICANT_FORM, "form_key": key})
    changed = client.post(url, {**APPLICANT_FORM, "office": "US", "form_key": key})
    assert changed.status_code == 200
    assert "This form was already sent and made a request" in changed.content.decode()
    assert CredentialRequest.objects.count() == 1
    new_key = form_key_in(changed)
    assert new_key != key
    assert (
        client.post(url, {**APPLICANT_FORM, "office": "US", "form_key": new_key}).status_code == 302
    )
    assert set(CredentialRequest.objects.values_list("office__st3_code", flat=True)) == {"EP", "US"}


def test_a_request_form_without_a_valid_key_files_nothing_and_comes_back_with_one(
    client, alice, ep
):
    client.force_login(alice.user)
    url = reverse("portal:request-new")
    response = client.post(url, {**APPLICANT_FORM, "form_key": "portal-made-up"})
    assert response.status_code == 200
    assert "This form has expired or was altered: nothing was done." in response.content.decode()
    assert not CredentialRequest.objects.exists()
    fresh = client.post(url, {**APPLICANT_FORM, "form_key": form_key_in(response)})
    assert fresh.status_code == 302
    assert CredentialRequest.objects.count() == 1


def test_approving_twice_issues_once_and_says_it_was_approved(
    client, alice, ep, ep_officer, django_capture_on_commit_callbacks
):
    from registry.audit.models import AuditEvent

    _request(client, alice)
    req = CredentialRequest.objects.get()
    _approve(client, ep_officer, req.pk, django_capture_on_commit_callbacks)
    issued = IssuedCredential.objects.filter(subject_did=alice.did.did).count()
    assert issued == 2  # JSON-LD and VC-JWT
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            reverse("portal:office-request", args=[req.pk]), {"action": "approve"}, follow=True
        )
    assert IssuedCredential.objects.filter(subject_did=alice.did.did).count() == 2
    assert AuditEvent.objects.filter(action="portal.credential-request.approve").count() == 1
    assert again.redirect_chain[-1][0] == reverse("portal:office-request", args=[req.pk])
    page = again.content.decode()
    assert "This request was already approved." in page
    assert "See the issued credential" in page


def test_rejecting_twice_says_it_was_rejected(client, alice, ep, ep_officer):
    _request(client, alice)
    req = CredentialRequest.objects.get()
    client.force_login(ep_officer)
    url = reverse("portal:office-request", args=[req.pk])
    data = {"action": "reject", "reason": "Address missing"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)
    assert "This request was already rejected." in again.content.decode()
    req.refresh_from_db()
    assert (req.state, req.rejection_reason) == ("rejected", "Address missing")


def test_withdrawing_twice_says_it_was_withdrawn(client, alice, ep):
    _request(client, alice)
    req = CredentialRequest.objects.get()
    url = reverse("portal:request-withdraw", args=[req.pk])
    client.post(url)
    again = client.post(url, follow=True)
    page = again.content.decode()
    assert "This request was already withdrawn." in page
    assert "has already been decided" not in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database shared between threads (the test SQLite is in memory)",
)
def test_a_double_click_on_the_request_form_files_one_request(client, alice, ep):
    client.force_login(alice.user)
    url = reverse("portal:request-new")
    data = {**APPLICANT_FORM, "form_key": form_key(client, url)}
    responses = post_at_once(alice.user, url, data, times=4)
    assert [r.status_code for r in responses] == [302] * 4
    assert CredentialRequest.objects.count() == 1
