import pytest

from . import factories


@pytest.fixture
def ep(db):
    return factories.office("EP", "European Patent Office")


@pytest.fixture
def us(db):
    return factories.office("US", "United States Patent and Trademark Office")


@pytest.fixture
def alice(db):
    """An applicant."""
    return factories.applicant("Alice Inventions SARL", email="alice@example.org", country="FR")


@pytest.fixture
def bob(db):
    """Another applicant."""
    return factories.applicant("Bob Widgets Ltd", email="bob@example.org", country="GB")


@pytest.fixture
def carol(db):
    """An agent."""
    return factories.agent("Carol Patent Attorneys", email="carol@example.org")


@pytest.fixture
def ep_officer(ep):
    return factories.officer(ep, email="officer@ep.example.org")


@pytest.fixture
def us_officer(us):
    return factories.officer(us, email="officer@us.example.org")


@pytest.fixture
def client_for(client):
    """Log a user in on Django's test client."""

    def login(user):
        client.force_login(user)
        return client

    return login
