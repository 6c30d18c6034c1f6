"""The email-or-username backend's user lookup (every logged-in request runs it)."""

import pytest
from django.contrib.auth.backends import ModelBackend

from accounts.backends import EmailOrUsernameBackend
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_get_user_loads_the_user_as_model_backend_does():
    user = UserFactory(first_name="Ana", dietary_notes="No peanuts")
    ours = EmailOrUsernameBackend().get_user(str(user.pk))  # as the session stores it
    theirs = ModelBackend().get_user(str(user.pk))
    assert ours == theirs
    fields = [f.attname for f in user._meta.concrete_fields]
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]


@pytest.mark.parametrize("user_id", ["987654", "abc", "", None, "1" * 30, "<script>"])
def test_get_user_finds_no_one_for_a_missing_or_mangled_id(user_id):
    UserFactory()
    assert EmailOrUsernameBackend().get_user(user_id) is None


def test_get_user_turns_away_a_deactivated_account():
    user = UserFactory(is_active=False)
    assert EmailOrUsernameBackend().get_user(user.pk) is None
