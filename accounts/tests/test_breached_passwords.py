"""The optional breached-password check (ASVS 6.2.12), against a fake of Have I Been
Pwned's range API served over real HTTP on this machine."""

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from accounts.tests.helpers import register_data

pytestmark = pytest.mark.django_db

BREACHED = "a-password-from-some-breach-2019"
BREACHED_MESSAGE = (
    "This password has appeared in a data breach, so attackers try it first. Please choose another."
)


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class FakePwnedPasswords(BaseHTTPRequestHandler):
    """GET /range/<5 hex digits>: the suffixes of breached hashes with that prefix
    (and padding lines with a count of 0, as the real one adds), one per line."""

    breached = {sha1(BREACHED)}
    asked: list[str] = []

    def do_GET(self):
        prefix = self.path.rsplit("/", 1)[-1]
        type(self).asked.append(self.path)
        lines = [f"{h[5:]}:42" for h in self.breached if h.startswith(prefix)]
        lines.append("0" * 35 + ":0")  # padding
        body = "\r\n".join(lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def pwned_service(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePwnedPasswords)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakePwnedPasswords.asked = []
    settings.PWNED_PASSWORDS_URL = f"http://127.0.0.1:{server.server_port}/range/"
    yield FakePwnedPasswords
    server.shutdown()
    server.server_close()


def test_a_breached_password_is_refused_at_sign_up(client, pwned_service):
    response = client.post(
        reverse("register"), register_data(password1=BREACHED, password2=BREACHED)
    )

    assert response.status_code == 200
    assert BREACHED_MESSAGE in response.context["form"].errors["password1"]
    assert not User.objects.exists()


def test_only_the_first_five_digits_of_the_hash_leave_the_machine(pwned_service):
    with pytest.raises(ValidationError):
        validate_password(BREACHED)

    assert pwned_service.asked == [f"/range/{sha1(BREACHED)[:5]}"]


def test_a_password_not_in_a_breach_is_accepted(client, pwned_service):
    password = "a-quiet-table-by-the-window-88"

    response = client.post(
        reverse("register"), register_data(password1=password, password2=password)
    )

    assert response.status_code == 302
    assert len(pwned_service.asked) == 1


def test_padding_lines_do_not_refuse_anything(pwned_service):
    pwned_service.breached = {sha1(BREACHED), "0" * 40}
    try:
        assert validate_password("another-long-and-unbreached-one-5") is None
        assert pwned_service.asked
    finally:
        pwned_service.breached = {sha1(BREACHED)}


def test_when_the_service_is_down_the_other_rules_still_apply(settings, caplog):
    settings.PWNED_PASSWORDS_URL = "http://127.0.0.1:9/range/"  # nothing listens there
    settings.PWNED_PASSWORDS_TIMEOUT = 0.5

    assert validate_password(BREACHED) is None  # let through: the service did not answer
    with pytest.raises(ValidationError):
        validate_password("dinnerparty2026!!")

    assert "breached-password check unavailable" in caplog.text


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://example.com/range/"])
def test_it_asks_nothing_unless_given_a_web_address(settings, url):
    settings.PWNED_PASSWORDS_URL = url

    assert validate_password(BREACHED) is None  # no error, nothing opened
