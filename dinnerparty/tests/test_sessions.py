"""Database sessions with the lookup compiled once (dinnerparty/sessions.py)."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dinnerparty.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_loads_again():
    store = SessionStore()
    store["cart"] = {"seats": 2, "note": "Ünïcode <b>"}
    store.save()
    again = SessionStore(session_key=store.session_key)
    assert again["cart"] == {"seats": 2, "note": "Ünïcode <b>"}
    assert again.session_key == store.session_key


def test_an_expired_session_loads_empty_and_gives_up_its_key():
    store = SessionStore()
    store["user"] = "ana"
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    again = SessionStore(session_key=store.session_key)
    assert dict(again.items()) == {}
    assert again.session_key is None


@pytest.mark.parametrize(
    "key", ["nosuchsessionkey00000000", "<script>alert(1)</script>", "x" * 500]
)
def test_an_unknown_or_mangled_key_loads_an_empty_session(key):
    store = SessionStore(session_key=key)
    assert dict(store.items()) == {}
    assert store.session_key is None


def test_logging_in_uses_these_sessions(client, settings, django_user_model):
    if settings.SESSION_ENGINE != "dinnerparty.sessions":
        pytest.skip("with Redis, sessions are cached_db")
    user = django_user_model.objects.create_user("ana", "ana@example.com", "a long enough password")
    client.force_login(user)
    assert client.get(reverse("profile")).status_code == 200  # logged in through a loaded session
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(session_key=key).get("_auth_user_id") == str(user.pk)


def login(client, user):
    return client.post(
        reverse("login"), {"username": user.username, "password": "a long enough password"}
    )


def test_logging_in_writes_one_session_under_a_new_key(client, settings, django_user_model):
    if settings.SESSION_ENGINE != "dinnerparty.sessions":
        pytest.skip("with Redis, sessions are cached_db")
    user = django_user_model.objects.create_user("ana", "ana@example.com", "a long enough password")
    old = SessionStore()
    old["cart"] = "kept"
    old.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = old.session_key
    with CaptureQueriesContext(connection) as queries:
        assert login(client, user).status_code == 302
    inserts = [q["sql"] for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert "django_session" in inserts[0]
    assert not any("django_session" in q["sql"] and q["sql"].startswith("UPDATE") for q in queries)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != old.session_key  # no session fixation
    assert not Session.objects.filter(session_key=old.session_key).exists()
    new = SessionStore(session_key=key)
    assert new["_auth_user_id"] == str(user.pk)
    assert new["cart"] == "kept"


def test_a_taken_key_is_not_reused(monkeypatch):
    taken = SessionStore()
    taken["owner"] = "someone else"
    taken.save()
    keys = iter([taken.session_key, "a" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))
    store = SessionStore()
    store["owner"] = "me"
    store.save()
    assert store.session_key == "a" * 32
    assert SessionStore(session_key=taken.session_key)["owner"] == "someone else"
