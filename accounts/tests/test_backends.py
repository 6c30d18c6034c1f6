"""The email-or-username backend: its login lookup and its user lookup (every
logged-in request runs the second)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.backends import EmailOrUsernameBackend, accounts_named
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

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


@pytest.mark.parametrize("typed", ["ana", "ANA", "  Ana ", "ana@example.com", "Ana@Example.COM "])
def test_authenticate_finds_the_account_by_username_or_email_in_any_case(typed):
    ana = UserFactory(username="ana", email="ana@example.com")
    UserFactory(username="bob", email="bob@example.com")
    assert EmailOrUsernameBackend().authenticate(None, typed, DEFAULT_PASSWORD) == ana


def test_authenticate_reads_the_candidates_in_one_query(django_assert_num_queries):
    ana = UserFactory(username="ana", email="ana@example.com")
    with django_assert_num_queries(1):
        assert EmailOrUsernameBackend().authenticate(None, "ana", DEFAULT_PASSWORD) == ana


@pytest.mark.parametrize(
    "typed",
    [
        "nobody",
        "ana%",  # LIKE wildcards are plain characters here
        "_na",
        "' OR '1'='1",
        "ana@example.com' --",
        "x" * 300,
        "ünïcödé@example.com",
    ],
)
def test_authenticate_finds_no_one_for_anything_but_an_exact_match(typed):
    UserFactory(username="ana", email="ana@example.com")
    assert EmailOrUsernameBackend().authenticate(None, typed, DEFAULT_PASSWORD) is None


def test_authenticate_refuses_a_wrong_password_and_a_deactivated_account():
    UserFactory(username="ana", email="ana@example.com")
    UserFactory(username="cy", email="cy@example.com", is_active=False)
    backend = EmailOrUsernameBackend()
    assert backend.authenticate(None, "ana", "not-the-password") is None
    assert backend.authenticate(None, "cy", DEFAULT_PASSWORD) is None
    assert backend.authenticate(None, "", DEFAULT_PASSWORD) is None
    assert backend.authenticate(None, "ana", None) is None


def test_a_login_reads_the_account_once_for_the_throttle_the_password_and_the_second_step(
    client, django_assert_num_queries
):
    """The throttle, the backend and the two-step check share one lookup
    (accounts.backends.login_candidates); the rest is Django's own login: the new
    session's row inserted once, under a fresh key (accounts.sessions), and `last_login`."""
    UserFactory(username="ana", email="ana@example.com")
    client.get("/accounts/login/")
    with django_assert_num_queries(5) as captured:
        answer = client.post("/accounts/login/", {"username": "ana", "password": DEFAULT_PASSWORD})
    assert answer.status_code == 302
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert sum('FROM "accounts_user"' in sql for sql in reads) == 1
    assert not [sql for sql in reads if sql.startswith('SELECT "otp_totp_totpdevice"')]


def test_each_login_lookup_reads_the_accounts_as_they_are_now():
    """The lookup's base queryset is built once per process and only filtered:
    it holds no rows, so an account made or given an authenticator after one
    login is found, and found so, by the next."""
    backend = EmailOrUsernameBackend()
    assert backend.authenticate(None, "ana", DEFAULT_PASSWORD) is None
    ana = UserFactory(username="ana", email="ana@example.com")
    assert backend.authenticate(None, "ana", DEFAULT_PASSWORD) == ana
    assert accounts_named("ana").get().has_authenticator is False
    TOTPDevice.objects.create(user=ana, name="Phone", confirmed=True)
    assert accounts_named("ana@example.com").get().has_authenticator is True
