import pytest

from accounts.tests.factories import UserFactory
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for


@pytest.fixture
def host(db):
    return UserFactory(username="ana", first_name="Ana", timezone="Europe/Paris")


@pytest.fixture
def guest(db):
    return UserFactory(username="ben", first_name="Ben")


@pytest.fixture
def party(host):
    return DinnerPartyFactory(host=host, title="Paella night", seats=4)


@pytest.fixture
def host_client(host):
    return client_for(host)


@pytest.fixture
def guest_client(guest):
    return client_for(guest)


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what's inside as if its transaction committed (so emails are sent)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
