"""Re-authentication before changing how one logs in (ASVS 7.5.1): changing the
email or the password and deleting the account need the password and, with
two-step verification on, a code from the app (or a recovery code) too — counted
like the code step at login."""

import datetime as dt
import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import reauth, two_factor
from accounts.models import RecoveryCode, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import page_text

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-table-for-eight-7"
TOO_MANY = "Too many attempts. Please try again in"


@pytest.fixture(autouse=True)
def clock(time_machine):
    """Time stands still (set before anyone logs in), moved on by hand."""
    time_machine.move_to(dt.datetime(2030, 3, 1, 18, 0, 5, tzinfo=dt.UTC), tick=False)
    return time_machine


@pytest.fixture
def app(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True, tolerance=0)


def code_now(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key)
    totp.time = time.time()
    return f"{totp.token():06d}"


def wrong_code(device: TOTPDevice) -> str:
    right = code_now(device)
    return next(code for n in range(1, 10) if (code := f"{n:06d}") != right)


def change_email(client, user, **extra):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": "ana.new@example.com",
        "dietary_notes": "",
        "timezone": user.timezone,
        "current_password": DEFAULT_PASSWORD,
    }
    return client.post(reverse("profile"), data | extra)


def change_password(client, **extra):
    data = {
        "old_password": DEFAULT_PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    return client.post(reverse("password_change"), data | extra)


def delete_account(client, **extra):
    return client.post(reverse("account_delete"), {"password": DEFAULT_PASSWORD} | extra)


def code_errors(response) -> list[str]:
    return [e.replace("\u2019", "'") for e in response.context["form"].errors.get("code", [])]


def email_unchanged(user) -> bool:
    user.refresh_from_db()
    return user.email == "ana@example.com" and user.pending_email == ""


# --- Each change needs the code with two-step verification on --------------------------


def test_an_email_change_needs_a_code_from_the_app(user_client, user, app, clock):
    refused = change_email(user_client, user)

    assert refused.status_code == 200
    assert code_errors(refused) == [reauth.REAUTH_CODE_REQUIRED]
    assert email_unchanged(user)

    accepted = change_email(user_client, user, code=code_now(app))

    assert accepted.status_code == 302
    user.refresh_from_db()
    assert user.pending_email == "ana.new@example.com"


def test_a_password_change_needs_a_code_from_the_app(user_client, user, app, clock):
    refused = change_password(user_client)

    assert refused.status_code == 200
    assert code_errors(refused) == [reauth.REAUTH_CODE_REQUIRED]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)

    accepted = change_password(user_client, code=code_now(app))

    assert accepted.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_deleting_the_account_needs_a_code_from_the_app(user_client, user, app, clock):
    refused = delete_account(user_client)

    assert refused.status_code == 200
    assert code_errors(refused) == [reauth.REAUTH_CODE_REQUIRED]
    assert User.objects.filter(pk=user.pk).exists()

    accepted = delete_account(user_client, code=code_now(app))

    assert accepted.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()


def test_a_recovery_code_does_instead_and_is_used_up(user_client, user, app, clock):
    codes = two_factor.recovery_codes_renew(user=user)

    assert change_password(user_client, code=codes[0]).status_code == 302
    assert RecoveryCode.objects.filter(device__user=user).count() == 9


def test_a_wrong_code_is_refused_and_changes_nothing(user_client, user, app, clock):
    response = change_password(user_client, code=wrong_code(app))

    assert code_errors(response) == [reauth.CODE_WRONG]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_with_a_wrong_password_the_code_is_not_checked_or_used(user_client, user, app, clock):
    codes = two_factor.recovery_codes_renew(user=user)

    response = change_password(
        user_client, old_password="not-the-right-password-at-all", code=codes[0]
    )

    assert response.status_code == 200
    assert "code" not in response.context["form"].errors
    assert RecoveryCode.objects.filter(device__user=user).count() == 10


def test_wrong_codes_are_counted_like_at_the_code_step(user_client, user, app, clock, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        clock.shift(dt.timedelta(seconds=5))  # past django-otp's own back-off
        assert code_errors(change_email(user_client, user, code=wrong_code(app)))

    clock.shift(dt.timedelta(seconds=10))
    response = change_email(user_client, user, code=code_now(app))

    assert response.status_code == 429
    assert TOO_MANY in page_text(response)
    assert email_unchanged(user)


def test_without_two_step_verification_no_code_is_asked(user_client, user):
    for url in ("profile", "password_change", "account_delete"):
        form = user_client.get(reverse(url)).context["form"]
        assert "code" not in form.fields

    assert change_password(user_client).status_code == 302


def test_the_code_field_is_shown_to_those_who_need_it(user_client, app):
    for url in ("profile", "password_change", "account_delete"):
        page = user_client.get(reverse(url)).content.decode()
        assert 'name="code"' in page
        assert 'autocomplete="one-time-code"' in page


# --- The field: empty, too long, the wrong kind, hostile --------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param("", reauth.REAUTH_CODE_REQUIRED, id="empty"),
        pytest.param("   ", reauth.REAUTH_CODE_REQUIRED, id="blank"),
        pytest.param("1" * 33, reauth.CODE_TOO_LONG, id="too-long"),
        pytest.param("12ab", reauth.CODE_MALFORMED, id="wrong-type"),
        pytest.param("<script>alert(1)</script>", reauth.CODE_MALFORMED, id="hostile"),
        pytest.param("12345\x00", "Null characters are not allowed.", id="nul"),
    ],
)
def test_the_code_field_says_what_it_wants_and_never_fails(user_client, user, app, typed, message):
    for response in (
        change_email(user_client, user, code=typed),
        change_password(user_client, code=typed),
        delete_account(user_client, code=typed),
    ):
        assert response.status_code == 200
        assert code_errors(response) == [message.replace("\u2019", "'")]
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert email_unchanged(user)
    assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)


def test_another_users_app_code_does_not_do(user_client, user, app, clock):
    other = UserFactory(username="chloe")
    other_app = TOTPDevice.objects.create(user=other, name="Phone", confirmed=True, tolerance=0)
    if code_now(other_app) == code_now(app):
        pytest.skip("the two keys show the same code this step (1 in a million)")

    response = change_password(user_client, code=code_now(other_app))

    assert code_errors(response) == [reauth.CODE_WRONG]
