"""Two-step verification: setting an app up, the code step at login, recovery codes,
the limits on wrong codes, the admin for staff, password resets, turning it off."""

import datetime as dt
import re
import time
from base64 import b32decode
from binascii import hexlify
from urllib.parse import urlencode

import pytest
from django.contrib.auth import views as auth_views
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertRedirects

from accounts import two_factor
from accounts.models import RecoveryCode
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import page_text
from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-right-password-at-all"
NEW_PASSWORD = "a-brand-new-table-for-eight-7"
TOO_MANY = "Too many attempts. Please try again in"
VERIFY = reverse("two_factor_verify")
SETUP = reverse("two_factor_setup")
RECOVERY_CODES = reverse("two_factor_recovery_codes")
DISABLE = reverse("two_factor_disable")


def code_of(key: bytes, *, at: float | None = None) -> str:
    """What an authenticator app shows for `key` now (or at `at`)."""
    totp = TOTP(key)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def app_code(device: TOTPDevice) -> str:
    return code_of(device.bin_key)


def wrong_code(key: bytes) -> str:
    """Six digits the app for `key` does not show now, nor a step before or after."""
    near = {code_of(key, at=time.time() + steps * 30) for steps in (-1, 0, 1)}
    return next(code for n in range(1, 10) if (code := f"{n:06d}") not in near)


def with_next(path: str, next_url: str) -> str:
    return f"{path}?{urlencode({'next': next_url}, safe='/')}"


def log_in(client: Client, username: str = "ana", password: str = DEFAULT_PASSWORD, **data):
    return client.post(reverse("login"), {"username": username, "password": password, **data})


def enter_code(client: Client, code: str, **data):
    return client.post(VERIFY, {"code": code, **data})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def errors(response, field: str = "code") -> list[str]:
    return response.context["form"].errors.get(field, [])


@pytest.fixture
def app(user) -> TOTPDevice:
    """Ana's authenticator app: two-step verification is on."""
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


@pytest.fixture
def recovery_codes(user, app) -> list[str]:
    return two_factor.recovery_codes_renew(user=user)


@pytest.fixture
def at_the_code_step(client, user, app) -> Client:
    """Ana has typed her password; the code is still to come."""
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def hosts_staff(db):
    user = UserFactory(username="hana", is_staff=True)
    user.groups.add(Group.objects.get(name="Hosts"))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def set_up_app(client: Client, *, password: str = DEFAULT_PASSWORD, next_url: str | None = None):
    """Open the setup page, add the key to an 'app', send its code and the password.
    Returns (the response, the key)."""
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    page = client.get(SETUP + query)
    assert page.status_code == 200
    key = b32decode(page.context["secret"].replace(" ", ""))
    data = {"code": code_of(key), "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(SETUP + query, data), key


# --- Setting an app up ------------------------------------------------------------------


def test_the_profile_offers_two_step_verification(user_client):
    text = page_text(user_client.get(reverse("profile")))

    assert "Two-step verification" in text
    assert "Set up two-step verification" in text


def test_setting_an_app_up_turns_it_on_and_shows_ten_recovery_codes_once(user_client, user):
    page = user_client.get(SETUP)
    assert page.context["qr_code"].startswith("data:image/svg+xml")
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", page.context["secret"])

    response, key = set_up_app(user_client)

    assertRedirects(
        response, with_next(RECOVERY_CODES, reverse("profile")), fetch_redirect_response=False
    )
    app = TOTPDevice.objects.get(user=user)
    assert app.confirmed
    assert app.key == hexlify(key).decode()
    assert verified(user_client)  # this session has just shown it holds the app
    shown = user_client.get(response["Location"])
    codes = shown.context["new_codes"]
    assert len(codes) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", code) for code in codes)
    assert all(code in page_text(shown) for code in codes)
    assert "Two-step verification is on." in page_text(shown)
    again = page_text(user_client.get(RECOVERY_CODES))
    assert not any(code in again for code in codes)
    assert "You have 10 unused recovery codes" in again
    assert "On since" in page_text(user_client.get(reverse("profile")))


def test_recovery_codes_are_stored_only_as_salted_hashes(user, recovery_codes):
    digests = list(RecoveryCode.objects.filter(device__user=user).values_list("digest", flat=True))

    assert len(digests) == len(set(digests)) == 10
    for code in recovery_codes:
        plain = code.replace("-", "")
        assert not any(plain in digest for digest in digests)
        assert sum(check_password(plain, digest) for digest in digests) == 1


def test_the_key_offered_stays_the_same_until_it_is_used(user_client):
    first = user_client.get(SETUP).context["secret"]

    assert user_client.get(SETUP).context["secret"] == first


def test_setting_up_needs_the_password(user_client, user):
    response, _key = set_up_app(user_client, password=WRONG_PASSWORD)

    assert response.status_code == 200
    assert errors(response, "password") == ["That's not your current password."]
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_setting_up_with_a_wrong_code_says_so(user_client, user):
    key = b32decode(user_client.get(SETUP).context["secret"].replace(" ", ""))

    response = user_client.post(SETUP, {"code": wrong_code(key), "password": DEFAULT_PASSWORD})

    assert errors(response) == [two_factor.APP_CODE_WRONG]
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_setting_up_again_when_it_is_on_goes_back_to_the_profile(user_client, app):
    response = user_client.get(SETUP, follow=True)

    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "Two-step verification is already on." in page_text(response)


# --- Logging in -------------------------------------------------------------------------


def test_without_an_app_the_password_alone_logs_in(client, user):
    response = client.post(
        reverse("login"), {"username": "ana", "password": DEFAULT_PASSWORD}, follow=True
    )

    assert response.redirect_chain == [(reverse("parties:list"), 302)]
    assert "Welcome back, Ana Lima!" in page_text(response)


def test_with_an_app_the_password_leads_to_the_code_step_and_opens_nothing_else(
    at_the_code_step, user
):
    client = at_the_code_step
    party = DinnerPartyFactory(host=user)

    for path in (
        reverse("parties:list"),
        reverse("profile"),
        reverse("account_export"),
        party.get_absolute_url(),
        reverse("password_change"),
        reverse("admin:index"),
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == with_next(VERIFY, path), path
    rsvp = client.post(reverse("parties:rsvp", args=[party.pk]), {"status": "going"})
    assert rsvp["Location"].startswith(VERIFY)
    page = client.get(VERIFY)
    assert page.status_code == 200
    assert "Welcome back" not in page_text(page)  # not yet


def test_the_right_code_finishes_the_login_under_a_new_session_key(at_the_code_step, app):
    client = at_the_code_step
    key_before = client.session.session_key

    response = enter_code(client, app_code(app), next=reverse("profile"))

    assertRedirects(response, reverse("profile"), fetch_redirect_response=False)
    assert verified(client)
    assert client.session.session_key != key_before
    assert "Welcome back, Ana Lima!" in page_text(client.get(reverse("profile")))
    assert client.get(reverse("parties:list")).status_code == 200


def test_the_code_step_follows_where_the_login_was_going(client, app):
    log_in(client, next=reverse("profile"))

    step = client.get(reverse("profile"))
    response = client.post(step["Location"], {"code": app_code(app)})

    assertRedirects(response, reverse("profile"))


def test_the_code_step_does_not_follow_an_unsafe_next(at_the_code_step, app):
    response = enter_code(at_the_code_step, app_code(app), next="https://evil.example/")

    assertRedirects(response, reverse("parties:list"))


def test_a_wrong_code_is_refused(at_the_code_step, app):
    response = enter_code(at_the_code_step, wrong_code(app.bin_key))

    assert response.status_code == 200
    assert errors(response) == [two_factor.CODE_WRONG]
    assert not verified(at_the_code_step)
    assert at_the_code_step.get(reverse("parties:list")).status_code == 302


def test_an_app_code_works_once(client, app, time_machine):
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, 10, tzinfo=dt.UTC), tick=False)
    code = app_code(app)
    log_in(client)
    assert enter_code(client, code).status_code == 302
    client.post(reverse("logout"))

    log_in(client)
    response = enter_code(client, code)

    assert errors(response) == [two_factor.CODE_WRONG]
    time_machine.shift(dt.timedelta(seconds=30))
    assert enter_code(client, app_code(app)).status_code == 302


def test_the_recovery_codes_left_are_counted_in_the_members_language(client, user, recovery_codes):
    user.language = "de"
    user.save(update_fields=["language"])
    log_in(client)

    enter_code(client, recovery_codes[0])

    assert "Wiederherstellungscode verwendet; 9 sind noch übrig" in page_text(
        client.get(reverse("profile"))
    )


def test_a_recovery_code_logs_in_once(client, user, recovery_codes):
    code = recovery_codes[3]
    log_in(client)

    response = enter_code(client, f"  {code.upper()} ")

    assert response.status_code == 302
    assert verified(client)
    assert "You used a recovery code; 9 left." in page_text(client.get(reverse("profile")))
    assert RecoveryCode.objects.filter(device__user=user).count() == 9
    client.post(reverse("logout"))
    log_in(client)
    assert errors(enter_code(client, code)) == [two_factor.CODE_WRONG]
    assert errors(enter_code(client, code.replace("-", ""))) == [two_factor.CODE_WRONG]


def test_a_login_in_a_verified_session_asks_for_the_code_again(client, user, app):
    user.is_staff = True  # the admin's login form is open to staff who are logged in
    user.save()
    log_in(client)
    enter_code(client, app_code(app))
    assert verified(client)

    client.post(reverse("admin:login"), {"username": "ana", "password": DEFAULT_PASSWORD})

    assert not verified(client)
    assert client.get(reverse("profile"))["Location"].startswith(VERIFY)


def test_logging_out_at_the_code_step_works(at_the_code_step):
    response = at_the_code_step.post(reverse("logout"))

    assert response.status_code == 302
    assert not logged_in(at_the_code_step)


# --- Wrong codes are limited ------------------------------------------------------------


def test_five_wrong_codes_lock_the_code_step_for_fifteen_minutes(
    client, app, settings, time_machine
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off: the next test
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, tzinfo=dt.UTC), tick=False)
    log_in(client)
    for wrong in (wrong_code(app.bin_key), "aaaaa-aaaaa", wrong_code(app.bin_key), "22222 22222"):
        assert errors(enter_code(client, wrong)) == [two_factor.CODE_WRONG]
    assert errors(enter_code(client, wrong_code(app.bin_key))) == [two_factor.CODE_WRONG]

    locked = enter_code(client, app_code(app))

    assert locked.status_code == 429
    assert errors(locked)[0].startswith(TOO_MANY)
    assert TOO_MANY in page_text(locked)
    assert not verified(client)
    # Another account is not held up.
    other = UserFactory(username="ben")
    other_app = TOTPDevice.objects.create(user=other, name="Phone")
    ben = Client()
    log_in(ben, "ben")
    assert enter_code(ben, app_code(other_app)).status_code == 302
    # The window ends.
    time_machine.shift(dt.timedelta(minutes=15, seconds=1))
    assert enter_code(client, app_code(app)).status_code == 302


def test_the_limit_counts_across_sessions_of_the_account(client, app, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    for _ in range(5):
        attacker = Client()
        log_in(attacker)
        enter_code(attacker, wrong_code(app.bin_key))

    log_in(client)

    assert enter_code(client, app_code(app)).status_code == 429


def test_django_otps_back_off_holds_the_app_after_a_wrong_code(client, app, time_machine):
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, tzinfo=dt.UTC), tick=False)
    log_in(client)
    enter_code(client, wrong_code(app.bin_key))

    at_once = enter_code(client, app_code(app))

    assert at_once.status_code == 429
    time_machine.shift(dt.timedelta(seconds=2))
    assert enter_code(client, app_code(app)).status_code == 302


def test_a_recovery_code_lifts_the_back_off_on_the_app(client, app, recovery_codes):
    app.throttling_failure_count = 30
    app.throttling_failure_timestamp = dt.datetime.now(dt.UTC)
    app.save()
    log_in(client)

    assert enter_code(client, recovery_codes[0]).status_code == 302

    app.refresh_from_db()
    assert app.throttling_failure_count == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", two_factor.CODE_REQUIRED),
        ("   ", two_factor.CODE_REQUIRED),
        ("1" * 33, two_factor.CODE_TOO_LONG),
        ("x" * 10_000, two_factor.CODE_TOO_LONG),
        ("12345", two_factor.CODE_MALFORMED),
        ("1234567", two_factor.CODE_MALFORMED),
        ("12a456", two_factor.CODE_MALFORMED),
        ("١٢٣٤٥٦", two_factor.CODE_MALFORMED),  # digits, but not 0-9
        ("<script>alert(1)</script>", two_factor.CODE_MALFORMED),
        ("' OR 1=1 --", two_factor.CODE_MALFORMED),
        ("12345\x00", "Null characters are not allowed."),
        ("aaaaa-aaaa1", two_factor.CODE_MALFORMED),  # 1 is not in a recovery code
    ],
)
def test_the_code_field_explains_what_it_wants_and_never_fails(at_the_code_step, typed, message):
    response = enter_code(at_the_code_step, typed)

    assert response.status_code == 200
    assert errors(response) == [message]
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_malformed_codes_are_not_counted_as_guesses(at_the_code_step, app, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    for _ in range(10):
        enter_code(at_the_code_step, "not a code")

    assert enter_code(at_the_code_step, app_code(app)).status_code == 302


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", two_factor.APP_CODE_MALFORMED),
        ("9" * 40, two_factor.CODE_TOO_LONG),
        ("12 34", two_factor.APP_CODE_MALFORMED),
        ("abcdef", two_factor.APP_CODE_MALFORMED),
        ("<b>123456</b>", two_factor.APP_CODE_MALFORMED),
        ("\x00" * 6, "Null characters are not allowed."),
    ],
)
def test_the_setup_code_field_explains_what_it_wants(user_client, typed, message):
    user_client.get(SETUP)

    response = user_client.post(SETUP, {"code": typed, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert errors(response) == [message]


# --- Staff and the admin ----------------------------------------------------------------


@pytest.fixture(params=["hosts_staff", "superuser"])
def staff(request):
    return request.getfixturevalue(request.param)


def test_staff_without_an_app_are_walked_through_setting_one_up_before_the_admin(staff):
    client = Client()
    client.force_login(staff)

    first_visit = client.get(reverse("admin:index"), follow=True)

    assert first_visit.redirect_chain[-1] == (with_next(SETUP, reverse("admin:index")), 302)
    assert "The admin opens only with two-step verification." in page_text(first_visit)
    response, _key = set_up_app(client, next_url=reverse("admin:index"))
    codes_page = client.get(response["Location"])
    assert codes_page.context["continue_url"] == reverse("admin:index")
    assert len(codes_page.context["new_codes"]) == 10
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 200
    assert "Parties, guests and accounts" in page_text(admin)


def test_staff_with_an_app_get_the_code_step_before_any_admin_page(staff):
    app = TOTPDevice.objects.create(user=staff, name="Phone")
    client = Client()
    client.force_login(staff)
    changelist = reverse("admin:parties_dinnerparty_changelist")

    response = client.get(changelist, follow=True)

    assert response.redirect_chain[-1][0] == with_next(VERIFY, changelist)
    assert enter_code(client, app_code(app), next=changelist)["Location"] == changelist
    assert client.get(changelist).status_code == 200


def test_a_staff_session_that_never_passed_the_code_step_gets_it_before_the_admin(staff):
    """E.g. logged in before two-step verification came, or before setting up the app
    elsewhere: no login marked the session, the admin still asks."""
    app = TOTPDevice.objects.create(user=staff, name="Phone")
    client = Client()
    client.force_login(staff)
    session = client.session
    del session[two_factor.PENDING_SESSION_KEY]
    session.save()
    assert client.get(reverse("parties:list")).status_code == 200  # the site is open

    response = client.get(reverse("admin:index"), follow=True)

    assert response.redirect_chain[-1][0].startswith(VERIFY)
    enter_code(client, app_code(app))
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_login_leads_through_the_code_step(client, hosts_staff):
    app = TOTPDevice.objects.create(user=hosts_staff, name="Phone")

    login = client.post(
        reverse("admin:login"),
        {"username": "hana", "password": DEFAULT_PASSWORD, "next": reverse("admin:index")},
        follow=True,
    )

    assert login.redirect_chain[-1][0].startswith(VERIFY)
    enter_code(client, app_code(app), next=reverse("admin:index"))
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_verified_staff_user_sees_the_admin(client, hosts_staff):
    app = TOTPDevice.objects.create(user=hosts_staff, name="Phone")
    log_in(client, "hana")
    enter_code(client, app_code(app))

    response = client.get(reverse("admin:parties_dinnerparty_changelist"))

    assert response.status_code == 200


def test_members_who_are_not_staff_still_meet_the_admin_login(user_client):
    response = user_client.get(reverse("admin:index"), follow=True)

    assert response.request["PATH_INFO"] == reverse("admin:login")
    assert response.status_code == 200


def test_turning_it_off_closes_the_admin_to_staff_until_it_is_on_again(hosts_staff):
    client = Client()
    client.force_login(hosts_staff)
    set_up_app(client)

    response = client.post(DISABLE, {"password": DEFAULT_PASSWORD}, follow=True)

    assert "The admin will ask you to set it up again." in page_text(response)
    assert client.get(reverse("admin:index"), follow=True).redirect_chain[-1][0].startswith(SETUP)


# --- Password reset ---------------------------------------------------------------------


def reset_password(client: Client, mailoutbox) -> None:
    client.post(reverse("password_reset"), {"email": "ana@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", mailoutbox[-1].body)[1]
    set_password_url = client.get(link)["Location"]
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == 302


def test_a_password_reset_does_not_pass_the_second_factor(client, app, mailoutbox):
    reset_password(client, mailoutbox)

    assert not logged_in(client)
    log_in(client, password=NEW_PASSWORD)
    assert client.get(reverse("profile"))["Location"].startswith(VERIFY)
    assert not verified(client)


def test_even_a_reset_that_logs_in_stops_at_the_code_step(client, app, mailoutbox, monkeypatch):
    monkeypatch.setattr(auth_views.PasswordResetConfirmView, "post_reset_login", True)

    reset_password(client, mailoutbox)

    assert logged_in(client)
    assert not verified(client)
    assert client.get(reverse("profile"))["Location"].startswith(VERIFY)


# --- Turning it off, new recovery codes -------------------------------------------------


@pytest.fixture
def verified_client(client, app):
    log_in(client)
    enter_code(client, app_code(app))
    assert verified(client)
    return client


def test_turning_it_off_needs_the_password(verified_client, user):
    wrong = verified_client.post(DISABLE, {"password": WRONG_PASSWORD})
    assert errors(wrong, "password") == ["That's not your current password."]
    assert TOTPDevice.objects.filter(user=user).exists()

    response = verified_client.post(DISABLE, {"password": DEFAULT_PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "Two-step verification is off" in page_text(response)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(device__user=user).exists()
    client = Client()
    assert log_in(client).status_code == 302
    assert client.get(reverse("profile")).status_code == 200  # the password alone again


def test_wrong_passwords_to_turn_it_off_are_limited(verified_client, user):
    for _ in range(5):
        verified_client.post(DISABLE, {"password": WRONG_PASSWORD})

    response = verified_client.post(DISABLE, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert TOTPDevice.objects.filter(user=user).exists()


def test_turning_it_off_needs_a_session_past_the_code_step(user_client, app):
    response = user_client.post(DISABLE, {"password": DEFAULT_PASSWORD})

    assert response["Location"] == with_next(VERIFY, DISABLE)
    assert TOTPDevice.objects.filter(pk=app.pk).exists()


def test_new_recovery_codes_replace_the_old_ones(verified_client, recovery_codes):
    response = verified_client.post(RECOVERY_CODES, {"password": DEFAULT_PASSWORD}, follow=True)

    new_codes = response.context["new_codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(recovery_codes)
    client = Client()
    log_in(client)
    assert errors(enter_code(client, recovery_codes[0])) == [two_factor.CODE_WRONG]
    assert enter_code(client, new_codes[0]).status_code == 302


def test_new_recovery_codes_need_the_password(verified_client, recovery_codes):
    response = verified_client.post(RECOVERY_CODES, {"password": WRONG_PASSWORD})

    assert errors(response, "password") == ["That's not your current password."]
    client = Client()
    log_in(client)
    assert enter_code(client, recovery_codes[0]).status_code == 302


def test_pages_about_the_second_factor_when_it_is_off_go_to_the_profile(user_client):
    for path in (RECOVERY_CODES, DISABLE):
        response = user_client.get(path, follow=True)
        assert response.redirect_chain == [(reverse("profile"), 302)]
        assert "Two-step verification is off." in page_text(response)


# --- A code lasts one 30-second step (ASVS 6.5.5) ---------------------------------------


def test_an_app_set_up_here_takes_a_code_for_30_seconds_only(client, user, time_machine):
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, 5, tzinfo=dt.UTC), tick=False)
    client.force_login(user)
    response, key = set_up_app(client)
    assert response.status_code == 302
    app = TOTPDevice.objects.get(user=user)
    assert app.tolerance == 0
    client.post(reverse("logout"))

    time_machine.shift(dt.timedelta(seconds=60))
    shown_30_seconds_ago = code_of(key, at=time.time() - 30)
    shown_in_30_seconds = code_of(key, at=time.time() + 30)
    log_in(client)

    assert errors(enter_code(client, shown_30_seconds_ago)) == [two_factor.CODE_WRONG]
    time_machine.shift(dt.timedelta(seconds=2))  # past django-otp's back-off, same step
    assert errors(enter_code(client, shown_in_30_seconds)) == [two_factor.CODE_WRONG]
    time_machine.shift(dt.timedelta(seconds=3))
    assert enter_code(client, code_of(key)).status_code == 302


def test_setup_learns_how_far_the_phones_clock_is_off(client, user, time_machine):
    time_machine.move_to(dt.datetime(2030, 1, 5, 19, 0, 5, tzinfo=dt.UTC), tick=False)
    client.force_login(user)
    page = client.get(SETUP)
    key = b32decode(page.context["secret"].replace(" ", ""))
    # The phone's clock runs 30 seconds fast: it shows the next step's code.
    response = client.post(
        SETUP, {"code": code_of(key, at=time.time() + 30), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).drift == 1
    client.post(reverse("logout"))

    time_machine.shift(dt.timedelta(minutes=5))
    log_in(client)

    assert errors(enter_code(client, code_of(key))) == [two_factor.CODE_WRONG]
    time_machine.shift(dt.timedelta(seconds=2))
    assert enter_code(client, code_of(key, at=time.time() + 30)).status_code == 302


def test_apps_set_up_before_take_one_step_after_the_migration(user):
    from importlib import import_module

    from django.apps import apps

    old = TOTPDevice.objects.create(user=user, name="Old phone", confirmed=True, tolerance=1)

    migration = import_module("accounts.migrations.0009_totp_codes_last_one_step")
    migration.one_step_only(apps, None)

    old.refresh_from_db()
    assert old.tolerance == 0
