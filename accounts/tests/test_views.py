"""Sign-up, log-in, log-out, throttling, passwords and the profile, through real URLs."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.core import signing
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from accounts.hashers import DinnerPartyArgon2Hasher
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import page_text, register_data
from accounts.throttle import DEVICE_COOKIE, DEVICE_SALT, RateLimit

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-table-for-eight-7"
WRONG_PASSWORD = "not-the-right-password-at-all"
INVALID_LOGIN = "That username or email and password don't match. Please try again."
TOO_MANY = "Too many attempts"
RESET_SENT = "If an account exists for that address, we've sent a link to reset your password."


def log_in(client, username, password=DEFAULT_PASSWORD, *, data=None, **request_extra):
    """POST the login form; `data` adds fields (remember_me, next), the rest goes to
    the test client (follow, REMOTE_ADDR)."""
    form = {"username": username, "password": password, **(data or {})}
    return client.post(reverse("login"), form, **request_extra)


def logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def messages_shown(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def reset_link(email_message) -> str:
    return re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", email_message.body)[1]


# --- Registration -------------------------------------------------------------------


def test_registration_logs_in_welcomes_and_lands_on_the_parties_list(client):
    response = client.post(reverse("register"), register_data(), follow=True)

    assertRedirects(response, reverse("parties:list"))
    user = User.objects.get(username="bruno")
    assert user.email == "bruno@example.com"
    assert logged_in_user_id(client) == str(user.pk)
    assert "Welcome to DinnerParty, bruno! Find a table or host your own." in page_text(response)


def test_registration_page_sends_a_logged_in_user_on(user_client):
    response = user_client.get(reverse("register"), follow=True)

    assertRedirects(response, reverse("parties:list"))
    assert "You're already signed up and logged in." in page_text(response)


def test_signups_are_rate_limited_per_ip(client, settings):
    settings.SIGNUP_ATTEMPTS_PER_IP_PER_HOUR = 2
    for name in ("bruno", "carla"):
        signup = client.post(
            reverse("register"), register_data(username=name, email=f"{name}@example.com")
        )
        assert signup.status_code == 302
        client.logout()

    response = client.post(
        reverse("register"), register_data(username="dora", email="dora@example.com")
    )
    other_ip = Client(REMOTE_ADDR="203.0.113.9").post(
        reverse("register"), register_data(username="emil", email="emil@example.com")
    )

    assert response.status_code == 429
    assert TOO_MANY in page_text(response)
    assert other_ip.status_code == 302
    assert sorted(User.objects.values_list("username", flat=True)) == ["bruno", "carla", "emil"]


def test_refused_signups_count_against_the_ip_limit_too(client, user, settings):
    settings.SIGNUP_ATTEMPTS_PER_IP_PER_HOUR = 3
    for name in ("probe1", "probe2", "probe3"):
        refused = client.post(
            reverse("register"), register_data(username=name, email="ANA@example.com")
        )
        assert refused.status_code == 200
        assert refused.context["form"].errors["email"] == [
            "An account with this email already exists."
        ]

    response = client.post(reverse("register"), register_data())

    assert response.status_code == 429
    assert TOO_MANY in page_text(response)
    assert not User.objects.filter(username="bruno").exists()


def test_a_tables_worth_of_guests_can_sign_up_on_one_wi_fi(db):
    # The default limit: twelve guests, a few of them mistyping their password once.
    wifi = "198.51.100.42"
    for guest in range(12):
        name = f"diner{guest}"
        if guest % 2:
            typo = register_data(username=name, email=f"{name}@example.com", password2="typo")
            assert Client(REMOTE_ADDR=wifi).post(reverse("register"), typo).status_code == 200
        data = register_data(username=name, email=f"{name}@example.com")
        assert Client(REMOTE_ADDR=wifi).post(reverse("register"), data).status_code == 302

    assert User.objects.filter(username__startswith="diner").count() == 12


# --- Login ----------------------------------------------------------------------------


def test_login_by_username_lands_on_the_parties_list(client, user):
    response = log_in(client, "ana", follow=True)

    assertRedirects(response, reverse("parties:list"))
    assert logged_in_user_id(client) == str(user.pk)
    assert "Welcome back, Ana Lima!" in page_text(response)


def test_login_by_email_in_capitals(client, user):
    response = log_in(client, "  ANA@EXAMPLE.COM ")

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


def test_login_field_fits_the_longest_email_address(client):
    long_email = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.example.com"
    user = UserFactory(email=long_email)

    page = client.get(reverse("login"))
    response = log_in(client, long_email.upper())

    assert 'name="username"' in page.content.decode()
    assert re.search(r'<input[^>]*name="username"[^>]*maxlength="254"', page.content.decode())
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.pk)


def test_a_username_that_is_another_users_email_locks_neither_out(client):
    # Usernames may contain "@" and ".", so one account's username can be
    # another's email address; each owner must still get in with their password.
    squatter = UserFactory(username="ana@example.com", email="squatter@example.com")
    squatter_password = "the-squatters-own-long-password"
    squatter.set_password(squatter_password)
    squatter.save()
    ana = UserFactory(username="ana", email="ana@example.com")

    as_ana = log_in(client, "ana@example.com")
    ana_id = logged_in_user_id(client)
    client.post(reverse("logout"))
    as_squatter = log_in(client, "ana@example.com", squatter_password)

    assert (as_ana.status_code, ana_id) == (302, str(ana.pk))
    assert (as_squatter.status_code, logged_in_user_id(client)) == (302, str(squatter.pk))


def test_wrong_password_and_unknown_user_get_the_same_answer(client, user):
    wrong_password = log_in(client, "ana", WRONG_PASSWORD)
    unknown_user = log_in(client, "nobody-by-that-name", WRONG_PASSWORD)

    assert wrong_password.status_code == unknown_user.status_code == 200
    assert messages_shown(wrong_password) == messages_shown(unknown_user) == [INVALID_LOGIN]
    assert wrong_password.context["form"].errors == unknown_user.context["form"].errors
    assert logged_in_user_id(client) is None


def test_inactive_user_gets_the_same_answer_as_a_wrong_password(client):
    UserFactory(username="gone", is_active=False)

    response = log_in(client, "gone")

    assert response.status_code == 200
    assert messages_shown(response) == [INVALID_LOGIN]
    assert logged_in_user_id(client) is None


def test_login_without_remember_me_ends_with_the_browser(client, user):
    response = log_in(client, "ana")

    assert client.session.get_expire_at_browser_close() is True
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""


def test_login_with_remember_me_lasts_thirty_days(client, user):
    response = log_in(client, "ana", data={"remember_me": "on"})

    thirty_days = int(dt.timedelta(days=30).total_seconds())
    assert client.session.get_expire_at_browser_close() is False
    assert abs(client.session.get_expiry_age() - thirty_days) < 60
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == thirty_days


def test_login_gives_a_new_session_key(client, user):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key

    log_in(client, "ana")

    assert client.session.session_key != before


@pytest.mark.parametrize(
    "unsafe_next",
    ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"],
)
def test_unsafe_next_is_ignored(client, user, unsafe_next):
    page = client.get(reverse("login"), {"next": unsafe_next})
    response = log_in(client, "ana", data={"next": unsafe_next})

    assert "evil.example" not in page.content.decode()
    assertRedirects(response, reverse("parties:list"))


@pytest.mark.parametrize("safe_next", ["/parties/", "/parties/?page=2", "/accounts/profile/"])
def test_safe_next_is_honoured(client, user, safe_next):
    response = log_in(client, "ana", data={"next": safe_next})

    assert response.status_code == 302
    assert response["Location"] == safe_next


def test_the_login_wall_brings_the_user_back(client, user):
    wall = client.get(reverse("profile"))
    next_url = wall["Location"].split("next=", 1)[1]

    response = log_in(client, "ana", data={"next": next_url})

    assert response["Location"] == reverse("profile")


# --- Logout ---------------------------------------------------------------------------


def test_logout_by_get_is_refused_and_keeps_the_session(user_client, user):
    response = user_client.get(reverse("logout"))

    assert response.status_code == 405
    assert logged_in_user_id(user_client) == str(user.pk)


def test_logout_by_post_ends_the_session_with_a_message(user_client):
    response = user_client.post(reverse("logout"), follow=True)

    assertRedirects(response, "/")
    assert "You've been logged out. See you at the table!" in page_text(response)
    assert logged_in_user_id(user_client) is None
    assert user_client.get(reverse("profile")).status_code == 302


# --- Throttling -----------------------------------------------------------------------


def test_five_failures_lock_the_account_even_with_the_right_password(client, user, monkeypatch):
    for attempt in range(5):
        # From different addresses: the per-account limit does not care.
        response = log_in(client, "ana", WRONG_PASSWORD, REMOTE_ADDR=f"198.51.100.{attempt}")
        assert response.status_code == 200

    checked = []
    monkeypatch.setattr(User, "check_password", lambda *args: checked.append(args))
    response = log_in(client, "ana", REMOTE_ADDR="198.51.100.99")

    assert response.status_code == 429
    assert "Too many attempts. Please try again in 15 minutes." in page_text(response)
    assert checked == []  # refused before the password was looked at
    assert logged_in_user_id(client) is None


def test_the_account_limit_ignores_letter_case(client, user):
    for username in ("ana", "ANA", "Ana", "ana", "aNa"):
        log_in(client, username, WRONG_PASSWORD)

    assert log_in(client, "ana").status_code == 429


def test_the_lock_is_the_same_whether_the_account_exists(client, user):
    for _ in range(5):
        log_in(client, "ana", WRONG_PASSWORD)
        log_in(client, "nobody-by-that-name", WRONG_PASSWORD)

    existing = log_in(client, "ana", WRONG_PASSWORD)
    unknown = log_in(client, "nobody-by-that-name", WRONG_PASSWORD)

    assert existing.status_code == unknown.status_code == 429
    assert messages_shown(existing) == messages_shown(unknown)
    assert existing.context["form"].errors == unknown.context["form"].errors


def test_twenty_failures_from_one_ip_lock_that_ip(client, user):
    for attempt in range(20):
        assert log_in(client, f"guess{attempt}", WRONG_PASSWORD).status_code == 200

    response = log_in(client, "ana")
    elsewhere = log_in(Client(REMOTE_ADDR="203.0.113.7"), "ana")

    assert response.status_code == 429
    assert TOO_MANY in page_text(response)
    assert elsewhere.status_code == 302


def test_a_success_resets_the_account_counter(client, user):
    for _ in range(4):
        log_in(client, "ana", WRONG_PASSWORD)
    assert log_in(client, "ana").status_code == 302
    client.post(reverse("logout"))

    for _ in range(4):
        assert log_in(client, "ana", WRONG_PASSWORD).status_code == 200
    assert log_in(client, "ana").status_code == 302


def test_a_success_with_no_failures_counted_writes_nothing_to_the_counters(
    client, user, monkeypatch
):
    cleared = []
    reset = RateLimit.reset

    def recorded_reset(limit, identifier):
        cleared.append(limit.name)
        reset(limit, identifier)

    monkeypatch.setattr(RateLimit, "reset", recorded_reset)

    assert log_in(client, "ana").status_code == 302
    assert cleared == []  # the login read the counters, and none held a count
    other_browser = Client()  # (this one is now counted by its device)
    log_in(other_browser, "ana", WRONG_PASSWORD)
    assert log_in(other_browser, "ana").status_code == 302
    assert cleared == ["login-account"]  # the account's count; the address's stays


def test_a_success_by_email_resets_the_counter_for_the_username_too(client, user):
    for _ in range(4):
        log_in(client, "ana", WRONG_PASSWORD)
    assert log_in(client, "ana@example.com").status_code == 302
    client.post(reverse("logout"))

    for _ in range(4):
        assert log_in(client, "ana", WRONG_PASSWORD).status_code == 200
    assert log_in(client, "ana").status_code == 302


def test_the_lock_lifts_after_fifteen_minutes(client, user, time_machine):
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, tzinfo=dt.UTC), tick=False)
    for _ in range(5):
        log_in(client, "ana", WRONG_PASSWORD)
    assert log_in(client, "ana").status_code == 429

    time_machine.shift(dt.timedelta(minutes=14))
    assert log_in(client, "ana").status_code == 429
    time_machine.shift(dt.timedelta(minutes=2))
    assert log_in(client, "ana").status_code == 302


@pytest.fixture
def staff(db):
    return UserFactory(username="boss", email="boss@example.com", is_staff=True)


def admin_log_in(client, username, password):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
    )


def test_the_admin_login_works_for_staff(client, staff):
    response = admin_log_in(client, "boss", DEFAULT_PASSWORD)

    # On to the admin, which asks for the second factor first (test_two_factor.py).
    assertRedirects(response, reverse("admin:index"), fetch_redirect_response=False)
    assert logged_in_user_id(client) == str(staff.pk)


def test_the_admin_login_is_throttled(client, staff):
    for _ in range(5):
        assert admin_log_in(client, "boss", WRONG_PASSWORD).status_code == 200

    response = admin_log_in(client, "boss", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert TOO_MANY in page_text(response)
    assert logged_in_user_id(client) is None


def test_site_and_admin_failures_count_together(client, staff):
    for _ in range(3):
        log_in(client, "boss", WRONG_PASSWORD)
    for _ in range(2):
        admin_log_in(client, "boss", WRONG_PASSWORD)

    assert admin_log_in(client, "boss", DEFAULT_PASSWORD).status_code == 429
    assert log_in(client, "boss").status_code == 429


# --- One lock per account; known devices have their own ------------------------------


def lock_out_unknown_devices(username: str = "ana") -> None:
    """Five wrong passwords from an attacker's browser, elsewhere."""
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(5):
        log_in(attacker, username, WRONG_PASSWORD)
    assert log_in(attacker, username).status_code == 429


def known_device(username: str = "ana") -> Client:
    """A browser that has logged in to the account before (and then logged out)."""
    device = Client()
    assert log_in(device, username).status_code == 302
    device.post(reverse("logout"))
    return device


def test_the_username_and_the_email_count_against_the_same_account(client, user):
    for name in ("ana", "ANA@example.com", "Ana", "ana@EXAMPLE.com", " ana "):
        assert log_in(client, name, WRONG_PASSWORD).status_code == 200

    assert log_in(client, "ana").status_code == 429
    assert log_in(client, "ana@example.com").status_code == 429


def test_a_login_issues_a_signed_device_cookie_for_a_year(client, user):
    response = log_in(client, "ana")

    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert not cookie["secure"]  # development: plain HTTP
    assert "ana" not in cookie.value
    assert signing.loads(cookie.value, salt=DEVICE_SALT)  # signed with a salt of its own
    with pytest.raises(signing.BadSignature):
        signing.loads(cookie.value)


def test_the_device_cookie_is_secure_in_production(client, user, settings):
    settings.SESSION_COOKIE_SECURE = True  # as production sets it

    response = log_in(client, "ana")

    assert response.cookies[DEVICE_COOKIE]["secure"] is True


def test_a_known_device_gets_in_while_strangers_have_locked_the_account(user):
    device = known_device()
    lock_out_unknown_devices()

    response = log_in(device, "ana")

    assert response.status_code == 302
    assert logged_in_user_id(device) == str(user.pk)


def test_a_known_device_has_a_limit_of_its_own(user):
    device = known_device()
    for _ in range(5):
        assert log_in(device, "ana", WRONG_PASSWORD).status_code == 200

    locked_device = log_in(device, "ana")
    elsewhere = log_in(Client(REMOTE_ADDR="198.51.100.3"), "ana")

    assert locked_device.status_code == 429
    assert "Too many attempts. Please try again in 15 minutes." in page_text(locked_device)
    # Its failures were its own: other browsers still have the account's five tries.
    assert elsewhere.status_code == 302


def test_a_device_known_for_another_account_is_a_stranger_to_this_one(user):
    UserFactory(username="ben", email="ben@example.com")
    device = known_device("ben")
    lock_out_unknown_devices("ana")

    assert log_in(device, "ana").status_code == 429
    assert log_in(device, "ben").status_code == 302


def test_a_tampered_device_cookie_counts_as_an_unknown_device(user):
    device = known_device()
    value = device.cookies[DEVICE_COOKIE].value
    device.cookies[DEVICE_COOKIE] = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    lock_out_unknown_devices()

    assert log_in(device, "ana").status_code == 429


def test_a_device_cookie_older_than_a_year_counts_as_an_unknown_device(user, time_machine):
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, tzinfo=dt.UTC), tick=False)
    device = known_device()
    time_machine.shift(dt.timedelta(days=366))
    lock_out_unknown_devices()

    assert log_in(device, "ana").status_code == 429


def test_a_known_devices_failures_leave_the_ip_limit_alone(user):
    # A shared Wi-Fi: one address for the whole table.
    device = known_device()
    for _ in range(4):
        log_in(device, "ana", WRONG_PASSWORD)
    assert log_in(device, "ana").status_code == 302
    device.post(reverse("logout"))

    for attempt in range(20):
        log_in(Client(), f"guess{attempt}", WRONG_PASSWORD)
    assert log_in(Client(), "someone-else", WRONG_PASSWORD).status_code == 429
    # The address is locked for strangers; the known device still gets in.
    assert log_in(device, "ana").status_code == 302


def test_signing_up_makes_the_browser_a_known_device(client):
    client.post(reverse("register"), register_data())
    client.post(reverse("logout"))
    lock_out_unknown_devices("bruno")

    assert log_in(client, "bruno").status_code == 302


def test_the_admin_login_issues_and_honours_the_device_cookie(client, staff):
    response = admin_log_in(client, "boss", DEFAULT_PASSWORD)
    assert DEVICE_COOKIE in response.cookies
    client.post(reverse("admin:logout"))
    lock_out_unknown_devices("boss")

    assert admin_log_in(client, "boss", DEFAULT_PASSWORD).status_code == 302


# --- Password hashing ---------------------------------------------------------------


@pytest.mark.slow
def test_a_new_password_is_stored_with_argon2(client, production_hashers):
    client.post(reverse("register"), register_data())

    user = User.objects.get(username="bruno")
    assert user.password.startswith("argon2$argon2id$")
    assert DEFAULT_PASSWORD not in user.password


@pytest.mark.slow
def test_an_old_pbkdf2_hash_is_upgraded_to_argon2_on_login(client, production_hashers):
    user = UserFactory(username="old-timer", password="unused-placeholder-password")
    User.objects.filter(pk=user.pk).update(
        password=make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
    )

    response = log_in(client, "old-timer")

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.check_password(DEFAULT_PASSWORD)


# --- Password change ------------------------------------------------------------------


def test_password_change_needs_the_current_password(user_client, user):
    response = user_client.post(
        reverse("password_change"),
        {
            "old_password": WRONG_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly. Please enter it again." in page_text(
        response
    )
    assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)


def test_password_change_keeps_this_session_and_ends_the_others(user_client, user):
    other_device = Client()
    assert log_in(other_device, "ana").status_code == 302

    response = user_client.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )

    assertRedirects(response, reverse("profile"))
    assert "Your password has been changed. Other sessions have been logged out." in page_text(
        response
    )
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert user_client.get(reverse("profile")).status_code == 200
    assertRedirects(
        other_device.get(reverse("profile")),
        f"{reverse('login')}?next={reverse('profile')}",
    )


def test_password_change_is_behind_the_login_wall(client):
    assertRedirects(
        client.get(reverse("password_change")),
        f"{reverse('login')}?next={reverse('password_change')}",
    )


# --- Password reset -------------------------------------------------------------------


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, user, mailoutbox):
    known = client.post(reverse("password_reset"), {"email": "ana@example.com"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert messages_shown(known) == messages_shown(unknown)
    assert RESET_SENT in page_text(known)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ana@example.com"]
    assert reset_link(mailoutbox[0])


def test_password_reset_finds_the_address_in_any_case(client, user, mailoutbox):
    client.post(reverse("password_reset"), {"email": "ANA@Example.com"})

    assert [message.to for message in mailoutbox] == [["ana@example.com"]]


def test_the_full_password_reset_flow(client, user, mailoutbox):
    client.post(reverse("password_reset"), {"email": "ana@example.com"})
    link = reset_link(mailoutbox[0])

    set_password_url = client.get(link)["Location"]
    assert "set-password" in set_password_url
    assert client.get(set_password_url).status_code == 200
    done = client.post(
        set_password_url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assertRedirects(done, reverse("password_reset_complete"))
    assert "Your password has been set. You can log in with it now." in page_text(done)
    assert log_in(client, "ana", DEFAULT_PASSWORD).status_code == 200
    assert log_in(client, "ana", NEW_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    used_again = client.get(link, follow=True)
    assert "This reset link has expired or was already used." in page_text(used_again)


def test_password_reset_sends_at_most_three_emails_per_address(client, user, mailoutbox):
    responses = [
        client.post(reverse("password_reset"), {"email": "ana@example.com"}, follow=True)
        for _ in range(4)
    ]

    assert len(mailoutbox) == 3
    assert {response.status_code for response in responses} == {200}
    assert messages_shown(responses[3]) == messages_shown(responses[0])


def test_password_reset_is_rate_limited_per_ip(client, user, mailoutbox, settings):
    settings.PASSWORD_RESETS_PER_IP_PER_HOUR = 2
    for address in ("one@example.com", "two@example.com"):
        assert client.post(reverse("password_reset"), {"email": address}).status_code == 302

    response = client.post(reverse("password_reset"), {"email": "ana@example.com"})

    assert response.status_code == 429
    assert TOO_MANY in page_text(response)
    assert mailoutbox == []


# --- Profile --------------------------------------------------------------------------


def profile_data(**overrides):
    data = {
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana@example.com",
        "dietary_notes": "",
        "timezone": "UTC",
        "current_password": "",
    }
    data.update(overrides)
    return data


def test_profile_is_behind_the_login_wall(client):
    response = client.get(reverse("profile"))

    assertRedirects(response, f"{reverse('login')}?next={reverse('profile')}")


def test_profile_shows_the_user_and_when_they_joined(user_client, user):
    response = user_client.get(reverse("profile"))

    assert response.status_code == 200
    assert f"ana · Joined {user.date_joined:%-d %B %Y}" in page_text(response)


def test_profile_saves_name_dietary_notes_and_time_zone(user_client, user):
    response = user_client.post(
        reverse("profile"),
        profile_data(
            first_name="Ana Maria",
            last_name="Lima-Souza",
            dietary_notes="vegetarian, no nuts",
            timezone="America/Sao_Paulo",
        ),
        follow=True,
    )

    assertRedirects(response, reverse("profile"))
    assert "Your profile has been saved." in page_text(response)
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.dietary_notes, user.timezone) == (
        "Ana Maria",
        "Lima-Souza",
        "vegetarian, no nuts",
        "America/Sao_Paulo",
    )


def test_profile_refuses_an_unknown_time_zone(user_client, user):
    response = user_client.post(reverse("profile"), profile_data(timezone="Mars/Olympus_Mons"))

    assert response.status_code == 200
    assert "Select a valid choice." in page_text(response)
    assert User.objects.get(pk=user.pk).timezone == "UTC"


@pytest.mark.parametrize("current_password", ["", WRONG_PASSWORD])
def test_changing_email_needs_the_current_password(user_client, user, current_password):
    response = user_client.post(
        reverse("profile"),
        profile_data(
            email="ana.lima@example.com", first_name="Changed", current_password=current_password
        ),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["current_password"] == [
        "Enter your current password to change your email address."
    ]
    saved = User.objects.get(pk=user.pk)
    assert (saved.email, saved.first_name) == ("ana@example.com", "Ana")


def test_changing_email_with_the_current_password(user_client, user):
    response = user_client.post(
        reverse("profile"),
        profile_data(email="ana.lima@example.com", current_password=DEFAULT_PASSWORD),
    )

    assertRedirects(response, reverse("profile"))
    # The new address waits for its confirmation link (accounts/tests/test_verification.py).
    saved = User.objects.get(pk=user.pk)
    assert (saved.email, saved.pending_email) == ("ana@example.com", "ana.lima@example.com")


def test_changing_only_the_letter_case_of_the_email_needs_no_password(user_client, user):
    response = user_client.post(reverse("profile"), profile_data(email="Ana@Example.com"))

    assertRedirects(response, reverse("profile"))
    assert User.objects.get(pk=user.pk).email == "Ana@example.com"


def test_profile_refuses_an_email_taken_in_another_case(user_client, user):
    UserFactory(email="carla@example.com")

    response = user_client.post(
        reverse("profile"),
        profile_data(email="CARLA@EXAMPLE.COM", current_password=DEFAULT_PASSWORD),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email already exists."
    ]
    assert User.objects.get(pk=user.pk).email == "ana@example.com"


def test_argon2_uses_the_documented_cost_and_upgrades_older_costs(production_hashers):
    encoded = make_password("correct horse battery staple")
    assert "$m=19456,t=8,p=1$" in encoded
    # A hash made with Django's default cost (100 MiB, 8 lanes) is re-made on login.
    old = Argon2PasswordHasher().encode("correct horse battery staple", "saltsaltsalt")
    upgraded = []
    assert check_password("correct horse battery staple", old, setter=upgraded.append)
    assert upgraded == ["correct horse battery staple"]
    # Ours is not re-made every time.
    assert check_password("correct horse battery staple", encoded, setter=upgraded.append)
    assert len(upgraded) == 1
    assert DinnerPartyArgon2Hasher.memory_cost * 16 < 512 * 1024


# --- Password checks behind the login -------------------------------------------------


def change_email(client, password):
    return client.post(
        reverse("profile"), profile_data(email="ana.new@example.com", current_password=password)
    )


def change_password(client, password):
    return client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def delete_account(client, password):
    return client.post(reverse("account_delete"), {"password": password})


PASSWORD_CHECKS = [change_email, change_password, delete_account]


@pytest.mark.parametrize("check", PASSWORD_CHECKS, ids=lambda check: check.__name__)
def test_five_wrong_passwords_lock_a_password_check_even_with_the_right_one(
    user_client, user, check
):
    for _ in range(5):
        assert check(user_client, WRONG_PASSWORD).status_code == 200

    response = check(user_client, DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert "Too many attempts. Please try again in 15 minutes." in page_text(response)
    saved = User.objects.get(pk=user.pk)  # not deleted
    assert saved.email == "ana@example.com"
    assert saved.check_password(DEFAULT_PASSWORD)


def test_the_password_checks_count_together(user_client, user):
    for check in (change_email, change_email, change_password, change_password, delete_account):
        check(user_client, WRONG_PASSWORD)

    assert delete_account(user_client, DEFAULT_PASSWORD).status_code == 429
    assert User.objects.filter(pk=user.pk).exists()


def test_the_right_password_resets_the_password_check_count(user_client, user):
    for _ in range(4):
        change_email(user_client, WRONG_PASSWORD)
    assert change_email(user_client, DEFAULT_PASSWORD).status_code == 302

    for _ in range(4):
        assert change_password(user_client, WRONG_PASSWORD).status_code == 200
    assert change_password(user_client, DEFAULT_PASSWORD).status_code == 302


def test_a_forgotten_current_password_is_not_a_guess(user_client, user):
    for _ in range(6):
        assert change_email(user_client, "").status_code == 200

    assert change_email(user_client, DEFAULT_PASSWORD).status_code == 302


def test_strangers_locking_the_login_do_not_lock_the_logged_in_owner(user_client, user):
    lock_out_unknown_devices("ana")

    assert change_email(user_client, DEFAULT_PASSWORD).status_code == 302
