"""Accreditation chains: depth, subset rule, periods, suspension, withdrawal cascade, and the
verdict at a credential's issuance time."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry.audit.models import AuditEvent
from registry.trust.models import IssuerAccreditation, OfficeMembership
from registry.trust.services import (
    accreditation_check,
    accreditation_grant,
    accreditation_reinstate,
    accreditation_suspend,
    accreditation_withdraw,
)

from .factories import UserFactory, member, office, participant

pytestmark = pytest.mark.django_db

APPLICANT = "IPApplicantCredential"
REPRESENTATIVE = "IPRepresentativeCredential"


@pytest.fixture
def ep():
    return office("EP", "European Patent Office")


@pytest.fixture
def ep_root(ep):
    return accreditation_grant(
        office=ep,
        credential_types=[APPLICANT, REPRESENTATIVE],
        valid_from=timezone.now() - timedelta(days=10),
    )


@pytest.fixture
def bar():
    return participant(kind="agent", name="Chamber of Patent Attorneys")


def test_root_accreditation_authorises_its_types_only(ep, ep_root):
    now = timezone.now()
    assert accreditation_check(issuer=ep, credential_type=APPLICANT, at=now).authorized
    verdict = accreditation_check(issuer=ep, credential_type="IPMandateCredential", at=now)
    assert not verdict.authorized
    assert verdict.code == "notAccredited"
    assert "IPMandateCredential" in verdict.reason


def test_an_unexplained_check_gives_the_same_verdicts(ep, ep_root, bar):
    now = timezone.now()
    quick = accreditation_check(issuer=ep, credential_type=APPLICANT, at=now, explain=False)
    assert quick.authorized
    assert quick.accreditation == ep_root
    # a refusal is explained all the same: the issuance API shows its reason
    for issuer, credential_type in [(ep, "IPMandateCredential"), (bar, REPRESENTATIVE)]:
        quick = accreditation_check(
            issuer=issuer, credential_type=credential_type, at=now, explain=False
        )
        full = accreditation_check(issuer=issuer, credential_type=credential_type, at=now)
        assert not quick.authorized
        assert (quick.code, quick.reason) == (full.code, full.reason)
    accreditation_suspend(accreditation=ep_root, reason="audit")
    quick = accreditation_check(
        issuer=ep, credential_type=APPLICANT, at=timezone.now(), explain=False
    )
    assert not quick.authorized
    assert quick.code == "suspended"


def test_root_accreditation_issues_an_office_accreditation_credential(
    accreditation_credentials, ep
):
    from registry.credentials.models import IssuedCredential

    ep_root = accreditation_grant(office=ep, credential_types=[APPLICANT, REPRESENTATIVE])
    assert ep_root.credential_id.startswith("urn:uuid:")
    issued = IssuedCredential.objects.get(credential_id=ep_root.credential_id)
    assert issued.credential_type == "IPOfficeAccreditationCredential"
    subject = issued.document["credentialSubject"]
    assert subject["id"] == ep_root.office.did.did
    assert sorted(subject["credentialTypes"]) == [APPLICANT, REPRESENTATIVE]


def test_verdict_chain_goes_up_to_the_root(ep, ep_root, bar):
    sub = accreditation_grant(office=bar, credential_types=[REPRESENTATIVE], parent=ep_root)
    verdict = accreditation_check(issuer=bar, credential_type=REPRESENTATIVE, at=timezone.now())
    assert verdict.authorized, verdict.reason
    assert [link["id"] for link in verdict.chain] == [sub.pk, ep_root.pk]
    assert verdict.chain[0]["accredited_by"] == ep.did.did
    assert verdict.chain[1]["accredited_by"].startswith("did:web:")
    assert verdict.chain[1]["depth"] == 0
    assert verdict.chain[0]["depth"] == 1


def test_sub_accreditation_never_grants_more_than_the_parent_holds(ep_root, bar):
    with pytest.raises(ValidationError, match="never grants more than its parent"):
        accreditation_grant(
            office=bar, credential_types=[REPRESENTATIVE, "IPMandateCredential"], parent=ep_root
        )
    assert not IssuerAccreditation.objects.filter(office=bar).exists()


def test_sub_accreditation_period_stays_within_the_parents(ep):
    start = timezone.now() - timedelta(days=1)
    end = timezone.now() + timedelta(days=30)
    parent = accreditation_grant(
        office=ep, credential_types=[APPLICANT], valid_from=start, valid_until=end
    )
    bar = participant(kind="agent")
    with pytest.raises(ValidationError, match="later than the parent"):
        accreditation_grant(
            office=bar, credential_types=[APPLICANT], parent=parent, valid_until=end + timedelta(1)
        )
    sub = accreditation_grant(office=bar, credential_types=[APPLICANT], parent=parent)
    assert sub.valid_until == end  # inherits the parent's end
    assert sub.valid_from >= start


@pytest.mark.parametrize("max_depth", [1, 2])
def test_depth_is_limited_by_setting(settings, ep_root, max_depth):
    settings.TRUST_MAX_DEPTH = max_depth
    parent = ep_root
    for level in range(1, max_depth + 1):
        parent = accreditation_grant(
            office=participant(kind="agent", name=f"Level {level}"),
            credential_types=[APPLICANT],
            parent=parent,
        )
        assert parent.depth == level
    with pytest.raises(ValidationError, match="limited to"):
        accreditation_grant(
            office=participant(kind="agent", name="Too deep"),
            credential_types=[APPLICANT],
            parent=parent,
        )


def test_registry_accredits_offices_only_and_applicants_never_issue(ep_root):
    with pytest.raises(ValidationError, match="IP offices only"):
        accreditation_grant(office=participant(kind="agent"), credential_types=[APPLICANT])
    with pytest.raises(ValidationError, match="applicant"):
        accreditation_grant(
            office=participant(kind="applicant"), credential_types=[APPLICANT], parent=ep_root
        )


def test_no_cycles(ep, ep_root):
    with pytest.raises(ValidationError, match="itself"):
        accreditation_grant(office=ep, credential_types=[APPLICANT], parent=ep_root)


def test_bad_types_and_periods_are_refused(ep):
    with pytest.raises(ValidationError):
        accreditation_grant(office=ep, credential_types=[])
    with pytest.raises(ValidationError, match="not a credential type"):
        accreditation_grant(office=ep, credential_types=["<script>"])
    now = timezone.now()
    with pytest.raises(ValidationError, match="after valid_from"):
        accreditation_grant(
            office=ep, credential_types=[APPLICANT], valid_from=now, valid_until=now
        )


def test_suspension_stops_new_issuance_at_once_but_not_earlier_credentials(ep, ep_root, bar):
    sub = accreditation_grant(office=bar, credential_types=[APPLICANT], parent=ep_root)
    issued_at = timezone.now()
    accreditation_suspend(accreditation=ep_root, reason="audit pending")
    now = timezone.now()
    # New issuance refused at once, for the office and for the chain below it.
    verdict = accreditation_check(issuer=ep, credential_type=APPLICANT, at=now)
    assert (verdict.authorized, verdict.code) == (False, "suspended")
    below = accreditation_check(issuer=bar, credential_type=APPLICANT, at=now)
    assert (below.authorized, below.code) == (False, "parentNotAuthorized")
    assert "European Patent Office" in below.reason
    # A credential issued before keeps verifying, and the verdict says when it ended.
    before = accreditation_check(issuer=bar, credential_type=APPLICANT, at=issued_at)
    assert before.authorized
    ep_root.refresh_from_db()
    assert before.ended_at == ep_root.suspended_at
    sub.refresh_from_db()
    assert sub.suspended_at is None  # suspension is not copied down: reinstating restores all


def test_reinstatement_keeps_the_suspended_period_unauthorised(ep, ep_root):
    accreditation_suspend(accreditation=ep_root)
    ep_root.refresh_from_db()
    during = ep_root.suspended_at + timedelta(microseconds=1)
    accreditation_reinstate(accreditation=ep_root)
    now = timezone.now()
    assert accreditation_check(issuer=ep, credential_type=APPLICANT, at=now).authorized
    verdict = accreditation_check(issuer=ep, credential_type=APPLICANT, at=during)
    assert (verdict.authorized, verdict.code) == (False, "suspended")


def test_withdrawing_a_parent_withdraws_the_chain_below(settings, ep, ep_root):
    settings.TRUST_MAX_DEPTH = 2
    bar = participant(kind="agent", name="Bar")
    firm = participant(kind="agent", name="Firm")
    sub = accreditation_grant(office=bar, credential_types=[APPLICANT], parent=ep_root)
    subsub = accreditation_grant(office=firm, credential_types=[APPLICANT], parent=sub)
    other = accreditation_grant(
        office=participant(kind="agent", name="Other"),
        credential_types=[REPRESENTATIVE],
        parent=ep_root,
    )
    before = timezone.now()
    withdrawn = accreditation_withdraw(accreditation=sub, reason="struck off")
    assert {a.pk for a in withdrawn} == {sub.pk, subsub.pk}
    subsub.refresh_from_db()
    other.refresh_from_db()
    assert subsub.withdrawn_at is not None
    assert "withdrawn" in subsub.end_reason
    assert other.withdrawn_at is None
    now = timezone.now()
    assert accreditation_check(issuer=firm, credential_type=APPLICANT, at=now).code == "withdrawn"
    assert accreditation_check(issuer=bar, credential_type=APPLICANT, at=now).code == "withdrawn"
    assert accreditation_check(issuer=firm, credential_type=APPLICANT, at=before).authorized
    assert accreditation_check(issuer=ep, credential_type=APPLICANT, at=now).authorized
    # Withdrawal is final.
    with pytest.raises(ValidationError):
        accreditation_reinstate(accreditation=sub)
    # A withdrawn parent cannot accredit anyone any more.
    with pytest.raises(ValidationError, match="not active"):
        accreditation_grant(
            office=participant(kind="agent"), credential_types=[APPLICANT], parent=sub
        )


def test_time_of_issuance_before_and_after_the_period(ep):
    start = timezone.now() + timedelta(days=1)
    end = start + timedelta(days=1)
    accreditation_grant(office=ep, credential_types=[APPLICANT], valid_from=start, valid_until=end)
    assert accreditation_check(issuer=ep, credential_type=APPLICANT, at=timezone.now()).code == (
        "pending"
    )
    assert accreditation_check(issuer=ep, credential_type=APPLICANT, at=start).authorized
    assert accreditation_check(issuer=ep, credential_type=APPLICANT, at=end).code == "expired"


def test_a_renewed_accreditation_is_preferred_to_an_expired_one(ep):
    now = timezone.now()
    accreditation_grant(
        office=ep,
        credential_types=[APPLICANT],
        valid_from=now - timedelta(days=20),
        valid_until=now - timedelta(days=10),
    )
    renewed = accreditation_grant(office=ep, credential_types=[APPLICANT], valid_from=now)
    verdict = accreditation_check(issuer=ep, credential_type=APPLICANT, at=timezone.now())
    assert verdict.authorized
    assert verdict.accreditation == renewed
    assert accreditation_check(
        issuer=ep, credential_type=APPLICANT, at=now - timedelta(days=15)
    ).authorized
    assert not accreditation_check(
        issuer=ep, credential_type=APPLICANT, at=now - timedelta(days=5)
    ).authorized


def test_who_may_grant_and_manage(ep, ep_root, bar):
    jp = office("JP")
    ep_admin = member(ep, OfficeMembership.Role.ADMIN)
    ep_officer = member(ep, OfficeMembership.Role.OFFICER)
    jp_admin = member(jp, OfficeMembership.Role.ADMIN)
    root_admin = UserFactory(is_superuser=True, is_staff=True)
    root_admin.save()
    # Root accreditations: registry administrators only.
    for user in (ep_admin, ep_officer, jp_admin):
        with pytest.raises(PermissionDenied):
            accreditation_grant(office=jp, credential_types=[APPLICANT], actor=user)
    accreditation_grant(office=jp, credential_types=[APPLICANT], actor=root_admin)
    # Delegations under EP: EP's administrators (or a registry administrator).
    for user in (ep_officer, jp_admin):
        with pytest.raises(PermissionDenied):
            accreditation_grant(
                office=bar, credential_types=[APPLICANT], parent=ep_root, actor=user
            )
    sub = accreditation_grant(
        office=bar, credential_types=[APPLICANT], parent=ep_root, actor=ep_admin
    )
    with pytest.raises(PermissionDenied):
        accreditation_suspend(accreditation=sub, actor=jp_admin)
    with pytest.raises(PermissionDenied):
        accreditation_suspend(accreditation=ep_root, actor=ep_admin)  # its own root: no
    accreditation_suspend(accreditation=sub, actor=ep_admin)


def test_an_office_admin_cannot_backdate_a_delegated_accreditation(ep, ep_root, bar):
    # Backdated, it would make what the sub-issuer signed before the grant verify as accredited.
    ep_admin = member(ep, OfficeMembership.Role.ADMIN)
    yesterday = timezone.now() - timedelta(days=1)
    with pytest.raises(ValidationError, match="cannot start in the past"):
        accreditation_grant(
            office=bar,
            credential_types=[APPLICANT],
            parent=ep_root,
            actor=ep_admin,
            valid_from=yesterday,
        )
    assert not IssuerAccreditation.objects.filter(office=bar).exists()
    assert not accreditation_check(issuer=bar, credential_type=APPLICANT, at=yesterday).authorized
    # A start a moment ago (the form's clock) or later is fine.
    sub = accreditation_grant(
        office=bar,
        credential_types=[APPLICANT],
        parent=ep_root,
        actor=ep_admin,
        valid_from=timezone.now() - timedelta(seconds=30),
    )
    accreditation_withdraw(accreditation=sub, actor=ep_admin)
    # A registry administrator may bring an existing delegation in with its real start.
    root_admin = UserFactory(is_superuser=True, is_staff=True)
    old = accreditation_grant(
        office=bar,
        credential_types=[APPLICANT],
        parent=ep_root,
        actor=root_admin,
        valid_from=yesterday,
    )
    assert old.valid_from == yesterday


def test_every_change_is_audited(ep, bar):
    admin = UserFactory(is_superuser=True)
    admin.save()
    root = accreditation_grant(office=ep, credential_types=[APPLICANT], actor=admin)
    sub = accreditation_grant(office=bar, credential_types=[APPLICANT], parent=root)
    accreditation_suspend(accreditation=root, reason="r", actor=admin)
    accreditation_reinstate(accreditation=root, actor=admin)
    accreditation_withdraw(accreditation=root, actor=admin)
    events = list(AuditEvent.objects.filter(action__startswith="accreditation.").order_by("id"))
    assert [(e.action, e.target) for e in events] == [
        ("accreditation.grant", f"accreditation:{root.pk}"),
        ("accreditation.grant", f"accreditation:{sub.pk}"),
        ("accreditation.suspend", f"accreditation:{root.pk}"),
        ("accreditation.reinstate", f"accreditation:{root.pk}"),
        ("accreditation.withdraw", f"accreditation:{root.pk}"),
        ("accreditation.withdraw", f"accreditation:{sub.pk}"),
    ]
    assert events[0].actor_type == "user"
    assert events[0].actor_label == admin.username
    assert events[1].actor_type == "system"
    assert events[0].data["credential_types"] == [APPLICANT]


def test_every_change_is_anchored_in_the_log(ep, bar):
    import json

    from registry.anchoring.models import LogLeaf

    root = accreditation_grant(office=ep, credential_types=[APPLICANT])
    sub = accreditation_grant(office=bar, credential_types=[APPLICANT], parent=root)
    accreditation_suspend(accreditation=root)
    accreditation_reinstate(accreditation=root)
    accreditation_withdraw(accreditation=root)
    leaves = [
        json.loads(leaf.entry)["data"]
        for leaf in LogLeaf.objects.filter(kind="accreditation").order_by("index")
    ]
    assert [(d["accreditation"], d["event"]) for d in leaves] == [
        (root.pk, "granted"),
        (sub.pk, "granted"),
        (root.pk, "suspended"),
        (root.pk, "reinstated"),
        (root.pk, "withdrawn"),
        (sub.pk, "withdrawn"),
    ]
    assert leaves[1]["accredited_by"] == ep.did.did
    assert leaves[0]["credential_types"] == [APPLICANT]


def test_withdrawal_revokes_the_accreditation_credential(
    accreditation_credentials, ep, django_capture_on_commit_callbacks
):
    from registry.credentials.models import IssuedCredential
    from registry.credentials.services import credential_verify

    with django_capture_on_commit_callbacks(execute=True):
        root = accreditation_grant(office=ep, credential_types=[APPLICANT])
    document = IssuedCredential.objects.get(credential_id=root.credential_id).document
    assert credential_verify(document).verified
    with django_capture_on_commit_callbacks(execute=True):
        accreditation_withdraw(accreditation=root, reason="test")
    report = credential_verify(document)
    assert not report.verified
    assert report.failed == ["status"]


def test_suspension_shows_on_the_accreditation_credential_until_reinstated(
    accreditation_credentials, ep, django_capture_on_commit_callbacks
):
    # A verifier holding the office's IPOfficeAccreditationCredential must see the suspension,
    # as it sees a withdrawal, and see it end with the reinstatement.
    from registry.credentials.models import IssuedCredential
    from registry.credentials.services import credential_verify

    with django_capture_on_commit_callbacks(execute=True):
        root = accreditation_grant(office=ep, credential_types=[APPLICANT])
    document = IssuedCredential.objects.get(credential_id=root.credential_id).document
    with django_capture_on_commit_callbacks(execute=True):
        accreditation_suspend(accreditation=root, reason="audit pending")
    report = credential_verify(document)
    assert report.failed == ["status"]
    assert "suspended" in report.check("status").detail
    with django_capture_on_commit_callbacks(execute=True):
        accreditation_reinstate(accreditation=root)
    assert credential_verify(document).verified
    with django_capture_on_commit_callbacks(execute=True):
        accreditation_withdraw(accreditation=root, reason="struck off")
    report = credential_verify(document)
    assert report.failed == ["status"]
    assert "revoked" in report.check("status").detail
