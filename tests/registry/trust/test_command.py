from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from registry.audit.models import AuditEvent
from registry.trust.models import IssuerAccreditation
from registry.trust.services import accreditation_check

from .factories import office, participant

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("accreditation", *args, stdout=out)
    return out.getvalue()


def test_accreditation_command_life_cycle():
    ep = office("EP")
    chamber = participant(kind="agent", name="Chamber")
    run("grant", "--office", "ep", "--types", "IPApplicantCredential,IPRepresentativeCredential")
    root = IssuerAccreditation.objects.get(office=ep)
    run("grant", "--issuer", chamber.did.did, "--types", "IPRepresentativeCredential",
        "--parent", str(root.pk))  # fmt: skip
    listing = run("list")
    assert "IPApplicantCredential,IPRepresentativeCredential" in listing
    assert listing.count("active") == 2
    run("suspend", str(root.pk), "--reason", "audit")
    verdict = accreditation_check(
        issuer=chamber, credential_type="IPRepresentativeCredential", at=timezone.now()
    )
    assert verdict.code == "parentNotAuthorized"
    run("reinstate", str(root.pk))
    assert "Withdrawn: " in run("withdraw", str(root.pk))
    assert IssuerAccreditation.objects.filter(withdrawn_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(actor_label="manage.py accreditation").count() == 6


def test_accreditation_command_errors():
    office("EP")
    with pytest.raises(CommandError, match="no such office"):
        run("grant", "--office", "ZZ", "--types", "IPApplicantCredential")
    with pytest.raises(CommandError, match="credential type"):
        run("grant", "--office", "EP", "--types", "bad type")
    with pytest.raises(CommandError, match="time zone"):
        run(
            "grant",
            "--office",
            "EP",
            "--types",
            "IPApplicantCredential",
            "--valid-until",
            "2026-13-01",
        )
    with pytest.raises(CommandError, match="no accreditation"):
        run("withdraw", "999")
