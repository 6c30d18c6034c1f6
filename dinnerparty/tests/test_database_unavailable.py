"""The database unavailable (a restart, a dropped connection): visitors get a
friendly 503 with Retry-After from `handler500` (dinnerparty.views.server_error),
never a traceback and never a 500."""

import logging

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from dinnerparty.views import RETRY_AFTER_SECONDS
from parties.tests.factories import DinnerPartyFactory
from parties.views import PartyListView

pytestmark = pytest.mark.django_db


@pytest.fixture
def visitor():
    """A browser as production sees it: errors become pages, not test failures."""
    return Client(raise_request_exception=False)


def database_down(monkeypatch, error: Exception) -> None:
    def cursor(self):
        raise error

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", cursor)


def assert_friendly_503(response) -> None:
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "be back in a moment" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert "InterfaceError" not in body
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("terminating connection due to administrator command"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_page_asked_for_while_the_database_is_down_gets_a_friendly_503(
    visitor, monkeypatch, error
):
    database_down(monkeypatch, error)

    assert_friendly_503(visitor.get(reverse("home")))


def test_a_reply_sent_while_the_database_is_down_gets_a_friendly_503(visitor, monkeypatch):
    guest = UserFactory()
    party = DinnerPartyFactory()
    visitor.force_login(guest)
    database_down(monkeypatch, OperationalError("the database system is shutting down"))

    response = visitor.post(
        reverse("parties:rsvp", args=[party.pk]), {"status": "going", "plus_ones": 0}
    )

    assert_friendly_503(response)


def test_the_login_page_posted_while_the_database_is_down_gets_a_friendly_503(visitor, monkeypatch):
    database_down(monkeypatch, OperationalError("could not connect to server"))

    response = visitor.post(reverse("login"), {"username": "ana", "password": "x" * 20})

    assert_friendly_503(response)


def test_any_other_error_is_still_the_plain_500_page(visitor, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(PartyListView, "get", broken)
    visitor.force_login(UserFactory())

    response = visitor.get(reverse("parties:list"))

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong" in response.content.decode()


# --- what is logged: an outage is a warning, a bug is an error with its traceback -------------


def test_an_outage_is_logged_as_one_warning_naming_the_database_and_no_traceback(
    visitor, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    visitor.force_login(UserFactory())
    database_down(monkeypatch, OperationalError("connection refused\nIs the server running?"))

    response = visitor.get(reverse("parties:list"))

    assert response.status_code == 503
    (warning,) = [r for r in caplog.records if r.name == "dinnerparty.views"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "Database unavailable, answered 503 with Retry-After: GET /parties/ "
        "(OperationalError: connection refused)"
    )
    assert warning.exc_info is None
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_a_reply_refused_during_an_outage_logs_its_method_and_path(visitor, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    party = DinnerPartyFactory()
    visitor.force_login(UserFactory())
    database_down(monkeypatch, InterfaceError("connection already closed"))

    visitor.post(reverse("parties:rsvp", args=[party.pk]), {"status": "going", "plus_ones": 0})

    (warning,) = [r for r in caplog.records if r.name == "dinnerparty.views"]
    assert f"POST /parties/{party.pk}/rsvp/ (InterfaceError:" in warning.getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_long_database_error_is_cut_in_the_log_line(visitor, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    database_down(monkeypatch, OperationalError("x" * 1000))

    visitor.get(reverse("home"))

    (warning,) = [r for r in caplog.records if r.name == "dinnerparty.views"]
    assert len(warning.getMessage()) < 320
    assert warning.getMessage().endswith("…)")


def test_a_real_bug_is_still_logged_at_error_with_its_traceback(visitor, monkeypatch, caplog):
    caplog.set_level(logging.INFO)

    def broken(self, *args, **kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(PartyListView, "get", broken)
    visitor.force_login(UserFactory())

    visitor.get(reverse("parties:list"))

    (error,) = [r for r in caplog.records if r.name == "django.request"]
    assert error.levelno == logging.ERROR
    assert error.getMessage() == "Internal Server Error: /parties/"
    assert error.exc_info[0] is ValueError
    assert [r for r in caplog.records if r.name == "dinnerparty.views"] == []
