"""How long a session lasts (12 hours unused without "keep me logged in", 30 days
with it), kept current without a write on every request, and the list of one's
sessions: each with its device and when it was last used, each ended on its own
or all but this one (accounts/sessions.py, accounts/middleware.py)."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.devices import device_name
from accounts.models import Session
from accounts.sessions import public_id
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
WITH_PASSWORD = {"password": DEFAULT_PASSWORD}


@pytest.fixture
def clock(time_machine):
    """Fake time, moved on by hand: clock(hours=13)."""
    time_machine.move_to(START, tick=False)

    def move(**delta):
        time_machine.shift(timedelta(**delta))

    return move


def browser(user_agent: str = FIREFOX_LINUX, **kwargs) -> Client:
    return Client(headers={"User-Agent": user_agent}, **kwargs)


def log_in(client: Client, user, *, remember: bool = False) -> None:
    data = {"username": user.username, "password": DEFAULT_PASSWORD}
    if remember:
        data["remember_me"] = "on"
    response = client.post(reverse("login"), data)
    assert response.status_code == 302


def logged_in(client: Client) -> bool:
    return client.get(reverse("profile")).status_code == 200


def page_text(response) -> str:
    """The page as read: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "accounts_session" in q["sql"] and q["sql"].split()[0] in {"UPDATE", "INSERT"}
    ]


# --- How long a session lasts ------------------------------------------------------------


def test_without_remember_me_a_session_ends_after_12_hours_unused(clock, user):
    client = browser()
    log_in(client, user)

    assert session_row(client).expire_date == START + timedelta(hours=12)
    clock(hours=11, minutes=59)
    assert logged_in(client)
    clock(hours=12)
    assert not logged_in(client)


def test_without_remember_me_a_session_in_use_goes_on(clock, user):
    client = browser()
    log_in(client, user)

    for _ in range(2):  # a request every 10 hours: never 12 unused (nor 24 since the login)
        clock(hours=10)
        assert logged_in(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""  # ends with the browser


def test_with_remember_me_a_session_lasts_30_days_unused(clock, user):
    client = browser()
    log_in(client, user, remember=True)

    clock(days=29, hours=23)
    assert logged_in(client)
    clock(days=30, minutes=1)
    assert not logged_in(client)


def test_without_remember_me_a_session_ends_24_hours_after_login_however_much_it_is_used(
    clock, user
):
    client = browser()
    log_in(client, user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value

    for _ in range(5):  # a request every 4 hours 45: never idle, 23 h 45 in all
        clock(hours=4, minutes=45)
        assert logged_in(client)
    clock(minutes=15)
    response = client.get(reverse("profile"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert (
        "You've been logged out: a login lasts 24 hours at most, however much it is used. "
        "Please log in again." in page_text(response)
    )
    assert not Session.objects.filter(session_key=key).exists()  # ended on the server


def test_with_remember_me_a_session_ends_30_days_after_login_however_much_it_is_used(clock, user):
    client = browser()
    log_in(client, user, remember=True)

    for _ in range(3):  # a visit every 9 days 23 hours
        clock(days=9, hours=23)
        assert logged_in(client)
    clock(hours=3)
    response = client.get(reverse("profile"), follow=True)

    assert "a login lasts 30 days at most" in page_text(response)
    assert not Session.objects.filter(user=user).exists()


def test_the_absolute_lifetime_comes_from_the_settings(clock, user, settings):
    settings.SESSION_MAX_AGE = 2 * 60 * 60
    client = browser()
    log_in(client, user)

    clock(hours=1, minutes=59)
    assert logged_in(client)
    clock(minutes=1)
    response = client.get(reverse("profile"), follow=True)

    assert "a login lasts 2 hours at most" in page_text(response)


def test_a_session_from_before_logins_were_stamped_lasts_from_its_next_save(clock, user):
    client = browser()
    log_in(client, user)
    store = Session.get_session_store_class()(client.cookies[settings.SESSION_COOKIE_NAME].value)
    store.pop("_logged_in")
    store.save()
    assert "_logged_in" in store.load()  # stamped on that save

    for hours in (10, 10, 3):
        clock(hours=hours, minutes=59 if hours == 3 else 0)
        assert logged_in(client)
    clock(minutes=1)
    assert not logged_in(client)


@pytest.mark.parametrize("how", ["sign-up", "admin login"])
def test_other_logins_without_remember_me_end_after_12_hours_unused(clock, how):
    client = browser()
    if how == "sign-up":
        response = client.post(
            reverse("register"),
            {
                "username": "newbie",
                "email": "newbie@example.com",
                "password1": DEFAULT_PASSWORD,
                "password2": DEFAULT_PASSWORD,
            },
        )
    else:
        staff = UserFactory(is_staff=True, is_superuser=True)
        response = client.post(
            reverse("admin:login"), {"username": staff.username, "password": DEFAULT_PASSWORD}
        )
    assert response.status_code == 302

    assert session_row(client).expire_date == START + timedelta(hours=12)
    clock(hours=12, seconds=1)
    assert not logged_in(client)


def test_a_session_is_written_at_most_every_five_minutes_while_in_use(clock, user):
    client = browser()
    log_in(client, user)
    assert logged_in(client)
    url = reverse("parties:list")

    for _ in range(4):
        clock(minutes=1)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert session_writes(queries) == []

    clock(minutes=1)  # five minutes since the login saved it
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(session_writes(queries)) == 1
    row = session_row(client)
    assert row.last_seen == START + timedelta(minutes=5)
    assert row.expire_date == START + timedelta(minutes=5, hours=12)

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert session_writes(queries) == []


# --- The list of one's sessions ----------------------------------------------------------


def test_the_list_shows_each_session_s_device_and_marks_this_one(clock, user):
    laptop, phone = browser(FIREFOX_LINUX), browser(SAFARI_IPHONE)
    log_in(laptop, user)
    clock(hours=2)
    log_in(phone, user)
    UserFactory()  # someone else's session is not listed
    other = browser(CHROME_WINDOWS)
    log_in(other, UserFactory(username="zed"))

    response = laptop.get(reverse("account_sessions"))

    text = page_text(response)
    assert "Firefox on Linux This device Active now" in text
    assert "Safari on iPhone Last seen now" in text
    assert "Chrome on Windows" not in text
    html = response.content.decode()
    for key in Session.objects.values_list("session_key", flat=True):
        assert key not in html  # a session key is a login: never shown
    phone_id = public_id(session_row(phone).session_key)
    assert reverse("account_session_end", args=[phone_id]) in html
    assert reverse("account_session_end", args=[public_id(session_row(laptop).pk)]) not in html


def test_the_profile_links_to_the_list(user_client):
    response = user_client.get(reverse("profile"))

    assert reverse("account_sessions") in response.content.decode()


def test_ending_one_session_logs_that_browser_out(user):
    laptop, phone, tablet = browser(), browser(SAFARI_IPHONE), browser(CHROME_WINDOWS)
    for client in (laptop, phone, tablet):
        log_in(client, user)

    response = laptop.post(
        reverse("account_session_end", args=[public_id(session_row(phone).pk)]),
        WITH_PASSWORD,
        follow=True,
    )

    assert "That session is logged out." in page_text(response)
    assert not logged_in(phone)
    assert logged_in(laptop)
    assert logged_in(tablet)


def test_ending_all_other_sessions_keeps_only_this_one(user):
    laptop, phone, tablet = browser(), browser(SAFARI_IPHONE), browser(CHROME_WINDOWS)
    for client in (laptop, phone, tablet):
        log_in(client, user)
    someone_else = browser()
    log_in(someone_else, UserFactory(username="zed"))

    response = laptop.post(reverse("account_sessions_end_others"), WITH_PASSWORD, follow=True)

    assert "Logged out everywhere else (2 sessions)." in page_text(response)
    assert (logged_in(laptop), logged_in(phone), logged_in(tablet)) == (True, False, False)
    assert logged_in(someone_else)


def test_another_user_s_session_is_not_found(user):
    laptop = browser()
    log_in(laptop, user)
    stranger = browser()
    log_in(stranger, UserFactory(username="zed"))
    stranger_id = public_id(session_row(stranger).pk)

    response = laptop.post(reverse("account_session_end", args=[stranger_id]), WITH_PASSWORD)

    assert response.status_code == 404
    assert logged_in(stranger)


@pytest.mark.parametrize("session_id", ["nosuchsession", "x" * 5000, "this"])
def test_an_unknown_session_or_this_one_is_not_found(user, session_id):
    laptop = browser()
    log_in(laptop, user)
    if session_id == "this":
        session_id = public_id(session_row(laptop).pk)

    response = laptop.post(reverse("account_session_end", args=[session_id]), WITH_PASSWORD)

    assert response.status_code == 404
    assert logged_in(laptop)


def test_ending_sessions_takes_a_post_with_a_csrf_token(user):
    laptop, phone = browser(enforce_csrf_checks=True), browser(SAFARI_IPHONE)
    laptop.force_login(user)
    log_in(phone, user)
    end_phone = reverse("account_session_end", args=[public_id(session_row(phone).pk)])

    assert laptop.get(end_phone).status_code == 405
    assert laptop.get(reverse("account_sessions_end_others")).status_code == 405
    assert laptop.post(end_phone, WITH_PASSWORD).status_code == 403
    assert laptop.post(reverse("account_sessions_end_others"), WITH_PASSWORD).status_code == 403
    assert logged_in(phone)


NEW_PASSWORD = "a-brand-new-password-for-ana"


# --- Ending sessions needs the password again (ASVS 7.5.2) -------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        pytest.param("", "This field is required.", id="empty"),
        pytest.param(
            "not-the-right-password-at-all", "That's not your current password.", id="wrong"
        ),
        pytest.param("x" * 1025, "Ensure this value has at most 1024 characters", id="too-long"),
        pytest.param(
            "<script>alert(1)</script>", "That's not your current password.", id="hostile"
        ),
    ],
)
@pytest.mark.parametrize("what", ["one", "all others"])
def test_ending_sessions_without_the_right_password_ends_nothing(user, password, message, what):
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user)
    log_in(phone, user)
    url = (
        reverse("account_session_end", args=[public_id(session_row(phone).pk)])
        if what == "one"
        else reverse("account_sessions_end_others")
    )

    response = laptop.post(url, {"password": password})

    assert response.status_code == 200
    text = page_text(response).replace("\u2019", "'")
    assert message in text
    assert "Safari on iPhone" in text  # the list again, with the error
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert logged_in(phone)


def test_wrong_passwords_at_ending_sessions_are_counted(user, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user)
    log_in(phone, user)
    url = reverse("account_sessions_end_others")
    for _ in range(2):
        laptop.post(url, {"password": "not-the-right-password-at-all"})

    response = laptop.post(url, WITH_PASSWORD)

    assert response.status_code == 429
    assert "Too many attempts. Please try again in" in page_text(response)
    assert logged_in(phone)


def test_the_list_asks_for_the_password_once_for_every_button(user):
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user)
    log_in(phone, user)

    html = laptop.get(reverse("account_sessions")).content.decode()

    assert html.count('name="password"') == 1
    assert 'autocomplete="current-password"' in html
    phone_url = reverse("account_session_end", args=[public_id(session_row(phone).pk)])
    assert f'formaction="{phone_url}"' in html


def test_a_password_change_leaves_only_this_session_on_the_list(user):
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user)
    log_in(phone, user)

    laptop.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert list(Session.objects.filter(user=user)) == [session_row(laptop)]
    listed = laptop.get(reverse("account_sessions")).context["active_sessions"]
    assert [session.is_current for session in listed] == [True]


def test_a_password_reset_ends_every_session_of_the_account(user, mailoutbox):
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user)
    log_in(phone, user)
    visitor = browser()
    visitor.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", mailoutbox[0].body)[1]
    set_password = visitor.get(link)["Location"]

    visitor.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not Session.objects.filter(user=user).exists()
    assert not logged_in(laptop)
    assert not logged_in(phone)


def test_the_list_is_behind_the_login_wall(client):
    response = client.get(reverse("account_sessions"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("size", [1, 20])
def test_the_list_s_queries_are_pinned(django_assert_max_num_queries, user, size):
    clients = [browser() for _ in range(size)]
    for client in clients:
        log_in(client, user)

    with django_assert_max_num_queries(2):  # the session and user; the user's sessions
        response = clients[0].get(reverse("account_sessions"))

    assert len(response.context["active_sessions"]) == size


@pytest.mark.parametrize(
    ("user_agent", "name"),
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (CHROME_WINDOWS.replace("Safari/537.36", "Safari/537.36 Edg/131.0"), "Edge on Windows"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605", "macOS"),
        ("curl/8.5.0", "Unknown device"),
        ("", "Unknown device"),
    ],
)
def test_a_device_is_named_by_its_browser_and_system(user_agent, name):
    assert device_name(user_agent) == name
