import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and resolver caches live in the (process-wide) default cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_accreditation_credentials(settings):
    # Signing an IPOfficeAccreditationCredential per grant is the credentials app's job and
    # is tested on its own (`accreditation_credentials` fixture); most trust tests skip it.
    settings.TRUST_ACCREDITATION_CREDENTIALS = False


@pytest.fixture
def accreditation_credentials(settings):
    settings.TRUST_ACCREDITATION_CREDENTIALS = True
