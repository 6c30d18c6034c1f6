"""Which address the per-IP limits count: X-Forwarded-For only from our own proxies."""

import json

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.helpers import page_text
from accounts.throttle import client_ip
from dinnerparty.tests.helpers import run_manage

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-right-password-at-all"
PROXY = "127.0.0.1"  # the default FORWARDED_ALLOW_IPS, as gunicorn's


@pytest.fixture(autouse=True)
def behind_an_https_proxy(settings):
    """As production with BEHIND_HTTPS_PROXY=1, where the old code trusted the header."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.FORWARDED_ALLOW_IPS = [PROXY]
    settings.TRUSTED_PROXY_COUNT = 1


def seen_as(remote_addr: str, forwarded_for: str | None = None) -> str:
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers))


def log_in(client, username, password, forwarded_for=None):
    headers = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return client.post(reverse("login"), {"username": username, "password": password}, **headers)


# --- Through the login page -----------------------------------------------------------


def test_a_client_cannot_dodge_the_ip_limit_with_a_forwarded_for_header_of_its_own():
    direct = Client(REMOTE_ADDR="203.0.113.5")  # not a proxy of ours
    for attempt in range(20):
        log_in(direct, f"guess{attempt}", WRONG_PASSWORD, forwarded_for=f"198.51.100.{attempt}")

    response = log_in(direct, "guess-more", WRONG_PASSWORD, forwarded_for="198.51.100.200")

    assert response.status_code == 429
    assert "Too many attempts" in page_text(response)


def test_behind_our_proxy_each_client_is_counted_by_the_address_the_proxy_saw(user):
    proxy = Client(REMOTE_ADDR=PROXY)
    for attempt in range(20):
        # The client writes whatever it likes on the left; the proxy appends the truth.
        spoofed = f"10.9.8.{attempt}, 198.51.100.7"
        assert log_in(proxy, f"guess{attempt}", WRONG_PASSWORD, spoofed).status_code == 200

    locked = log_in(proxy, "guess-more", WRONG_PASSWORD, "10.9.8.99, 198.51.100.7")
    neighbour = log_in(Client(REMOTE_ADDR=PROXY), "ana", DEFAULT_PASSWORD, "198.51.100.8")

    assert locked.status_code == 429
    assert neighbour.status_code == 302


# --- The address itself ---------------------------------------------------------------


def test_without_a_forwarded_for_header_the_peer_is_the_client():
    assert seen_as("203.0.113.5") == "203.0.113.5"
    assert seen_as(PROXY) == PROXY


def test_a_forwarded_for_header_from_anyone_but_a_trusted_proxy_is_ignored():
    assert seen_as("203.0.113.5", "198.51.100.7") == "203.0.113.5"
    assert seen_as("127.0.0.2", "198.51.100.7") == "127.0.0.2"


def test_behind_one_proxy_the_last_entry_is_the_client():
    assert seen_as(PROXY, "198.51.100.7") == "198.51.100.7"
    assert seen_as(PROXY, "1.2.3.4, 5.6.7.8, 198.51.100.7") == "198.51.100.7"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings):
    # A CDN in front of a load balancer: the balancer is the peer, the CDN the last entry.
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = 2

    assert seen_as("10.0.0.2", "198.51.100.7, 192.0.2.10") == "198.51.100.7"
    assert seen_as("10.0.0.2", "6.6.6.6, 198.51.100.7, 192.0.2.10") == "198.51.100.7"
    # Fewer entries than proxies: the chain is not ours, so the peer counts.
    assert seen_as("10.0.0.2", "192.0.2.10") == "10.0.0.2"


def test_trusted_proxies_are_a_comma_separated_list_or_a_star(settings):
    settings.FORWARDED_ALLOW_IPS = "192.0.2.1, 192.0.2.2,2001:db8::/32"
    assert seen_as("192.0.2.2", "198.51.100.7") == "198.51.100.7"
    assert seen_as("2001:db8::5", "198.51.100.7") == "198.51.100.7"
    assert seen_as("192.0.2.3", "198.51.100.7") == "192.0.2.3"

    settings.FORWARDED_ALLOW_IPS = ["*"]
    assert seen_as("203.0.113.5", "198.51.100.7") == "198.51.100.7"


@pytest.mark.parametrize(
    "header",
    ["", " ", "not-an-address", "198.51.100.7, garbage", "198.51.100.7,", ",,,", "999.1.1.1"],
)
def test_a_malformed_forwarded_for_header_falls_back_to_the_peer(header):
    assert seen_as(PROXY, header) == PROXY


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("198.51.100.7:4711", "198.51.100.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:DB8::7", "2001:db8::7"),
    ],
)
def test_a_forwarded_address_may_carry_a_port_or_be_ipv6(header, client):
    assert seen_as(PROXY, header) == client


LIMITS = (
    "LOGIN_FAILURES_PER_ACCOUNT",
    "LOGIN_FAILURES_PER_DEVICE",
    "LOGIN_FAILURES_PER_IP",
    "SIGNUP_ATTEMPTS_PER_IP_PER_HOUR",
    "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR",
    "PASSWORD_RESETS_PER_IP_PER_HOUR",
    "EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR",
    "FORWARDED_ALLOW_IPS",
    "TRUSTED_PROXY_COUNT",
)


def settings_read(**env: str) -> dict:
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {LIMITS!r}}}))"
    )
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_limits_and_trusted_proxies_come_from_the_environment():
    assert settings_read() == {
        "LOGIN_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_FAILURES_PER_DEVICE": 5,
        "LOGIN_FAILURES_PER_IP": 20,
        "SIGNUP_ATTEMPTS_PER_IP_PER_HOUR": 20,
        "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR": 3,
        "PASSWORD_RESETS_PER_IP_PER_HOUR": 20,
        "EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR": 5,
        "FORWARDED_ALLOW_IPS": ["127.0.0.1"],
        "TRUSTED_PROXY_COUNT": 1,
    }
    overridden = {
        name: "10.0.0.1, 10.0.0.2" if name == "FORWARDED_ALLOW_IPS" else "7" for name in LIMITS
    }
    assert settings_read(**overridden) == {
        name: ["10.0.0.1", "10.0.0.2"] if name == "FORWARDED_ALLOW_IPS" else 7 for name in LIMITS
    }
