import pytest
from django.utils import timezone

from registry.participants.demo import demo_data_load
from registry.participants.models import Participant
from registry.trust.demo import DEMO_CHAMBER, DEMO_OFFICE_TYPES
from registry.trust.models import IssuerAccreditation
from registry.trust.services import accreditation_check

pytestmark = pytest.mark.django_db


def test_demo_offices_are_accredited_once():
    demo_data_load()
    count = IssuerAccreditation.objects.count()
    now = timezone.now()
    for office in Participant.objects.filter(kind=Participant.Kind.OFFICE):
        for credential_type in DEMO_OFFICE_TYPES:
            assert accreditation_check(issuer=office, credential_type=credential_type, at=now)
        assert not accreditation_check(
            issuer=office, credential_type="IPMandateCredential", at=now
        ).authorized
    chamber = Participant.objects.get(display_name=DEMO_CHAMBER[0])
    verdict = accreditation_check(
        issuer=chamber, credential_type="IPRepresentativeCredential", at=now
    )
    assert verdict.authorized
    assert verdict.chain[-1]["issuer"].endswith(":offices:ep")
    demo_data_load()
    assert IssuerAccreditation.objects.count() == count
