import pytest

from accounts.sessions import _forget_loaded_user
from accounts.tests.factories import UserFactory
from dinnerparty import settings as project_settings


@pytest.fixture(autouse=True)
def no_session_user_left_over():
    """A session loaded outside a request (`SessionStore(session_key=...)` in a
    test) keeps its account for the thread; the next test, whose ids start over,
    must not be handed it by the auth backend."""
    yield
    _forget_loaded_user()


@pytest.fixture
def user(db):
    return UserFactory(username="ana", email="ana@example.com", first_name="Ana", last_name="Lima")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def production_hashers(settings):
    """The hashers of dinnerparty/settings.py (the root conftest swaps in MD5)."""
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    return project_settings.PASSWORD_HASHERS
