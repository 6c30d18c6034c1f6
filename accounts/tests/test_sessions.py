"""Database sessions read with their account, by SQL compiled once (dinnerparty/sessions.py)."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.contrib.sessions.backends.base import CreateError
from django.core.signals import request_started
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Session
from accounts.sessions import SessionStore, user_loaded_with_session

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
    user = django_user_model.objects.create_user("ana", "ana@example.com", "a long enough password")
    client.force_login(user)
    assert client.get(reverse("profile")).status_code == 200  # logged in through a loaded session
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(session_key=key).get("_auth_user_id") == str(user.pk)


def login(client, user):
    return client.post(
        reverse("login"), {"username": user.username, "password": "a long enough password"}
    )


def test_logging_in_moves_the_session_to_a_new_key(client, settings, django_user_model):
    """Django's own `cycle_key()`, the defence against session fixation."""
    user = django_user_model.objects.create_user("ana", "ana@example.com", "a long enough password")
    old = SessionStore()
    old["cart"] = "kept"
    old.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = old.session_key
    assert login(client, user).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != old.session_key  # no session fixation
    assert not Session.objects.filter(session_key=old.session_key).exists()
    new = SessionStore(session_key=key)
    assert new["_auth_user_id"] == str(user.pk)
    assert new["cart"] == "kept"


def test_a_first_login_in_a_browser_writes_one_row_under_a_fresh_key(
    client, settings, django_user_model
):
    """No session yet: nothing to replace, so its row is written once, when the
    response saves it (not inserted empty at login, then updated)."""
    user = django_user_model.objects.create_user("ana", "ana@example.com", "a long enough password")
    with CaptureQueriesContext(connection) as queries:
        assert login(client, user).status_code == 302
    writes = [q["sql"] for q in queries if "accounts_session" in q["sql"]]
    assert len(writes) == 1, writes
    assert writes[0].startswith("INSERT"), writes
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.get(session_key=key).user_id == user.pk
    assert SessionStore(session_key=key)["_auth_user_id"] == str(user.pk)


def test_a_cookie_naming_no_session_is_not_taken_as_the_new_key(
    client, settings, django_user_model
):
    user = django_user_model.objects.create_user("ana", "ana@example.com", "a long enough password")
    client.cookies[settings.SESSION_COOKIE_NAME] = "attackerchosenkey0000000000000000"
    assert login(client, user).status_code == 302
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != "attackerchosenkey0000000000000000"  # no session fixation
    assert SessionStore(session_key=key)["_auth_user_id"] == str(user.pk)


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


# --- the session read with its account -----------------------------------------------


def make_user(django_user_model, username: str = "ana"):
    return django_user_model.objects.create_user(
        username, f"{username}@example.com", "a long enough password"
    )


def test_a_logged_in_request_reads_its_session_and_user_in_one_query(
    client, settings, django_user_model
):
    if settings.SESSION_ENGINE != "accounts.sessions":
        pytest.skip("with Redis, a session found in the cache costs no query")
    user = make_user(django_user_model)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("parties:list"))
    assert response.context["user"] == user
    first = queries[0]["sql"]
    assert "accounts_session" in first
    assert "accounts_user" in first
    assert not any(q["sql"].startswith('SELECT "accounts_user"') for q in queries), (
        "the user was loaded again"
    )


def test_the_session_row_keeps_the_id_of_its_account(client, django_user_model):
    user = make_user(django_user_model)
    client.force_login(user)
    key = client.cookies["sessionid"].value
    assert Session.objects.get(session_key=key).user_id == user.pk
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_a_session_is_logged_in_to_the_account_its_data_names(client, django_user_model):
    """Should the column ever say otherwise, the session's own (signed) data wins:
    the user is then loaded by that id, never taken from the column."""
    ana, ben = make_user(django_user_model, "ana"), make_user(django_user_model, "ben")
    client.force_login(ana)
    Session.objects.update(user=ben)
    assert client.get(reverse("profile")).context["user"] == ana


def test_deleting_an_account_ends_its_sessions(client, django_user_model):
    user = make_user(django_user_model)
    client.force_login(user)
    user.delete()
    assert not Session.objects.exists()
    response = client.get(reverse("profile"))
    assert response.status_code == 302  # to the login page


def test_a_deactivated_account_is_logged_out(client, django_user_model):
    user = make_user(django_user_model)
    client.force_login(user)
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(reverse("profile")).status_code == 302


def test_a_new_request_never_sees_the_last_ones_user(client, settings, django_user_model):
    if settings.SESSION_ENGINE != "accounts.sessions":
        pytest.skip("with Redis, a session found in the cache is read without its user")
    user = make_user(django_user_model)
    client.force_login(user)
    client.get(reverse("profile"))
    assert user_loaded_with_session(user.pk) is None  # forgotten as the response ended
    SessionStore(session_key=client.session.session_key).load()  # read outside a request
    assert user_loaded_with_session(user.pk) == user
    request_started.send(sender=None)
    assert user_loaded_with_session(user.pk) is None


def test_the_migration_carries_logged_in_sessions_over(django_user_model):
    from django.apps import apps
    from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
    from django.contrib.sessions.models import Session as DjangoSession

    ana, gone = make_user(django_user_model, "ana"), make_user(django_user_model, "gone")
    stores = {}
    for name, data in {
        "ana": {"_auth_user_id": str(ana.pk), "cart": "kept"},
        "gone": {"_auth_user_id": str(gone.pk)},
        "visitor": {"cart": "anonymous"},
        "expired": {"_auth_user_id": str(ana.pk)},
    }.items():
        store = DjangoSessionStore()
        store.update(data)
        store.create()
        stores[name] = store.session_key
    DjangoSession.objects.filter(session_key=stores["expired"]).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    DjangoSession.objects.create(
        session_key="x" * 32, session_data="not signed", expire_date=timezone.now() + timedelta(1)
    )
    gone.delete()

    migration = import_module("accounts.migrations.0004_session")
    migration.carry_sessions_over(apps, connection.schema_editor())

    carried = {s.session_key: s for s in Session.objects.all()}
    assert set(carried) == {stores["ana"], stores["gone"], stores["visitor"], "x" * 32}
    assert carried[stores["ana"]].user_id == ana.pk
    assert carried[stores["gone"]].user_id is None
    assert carried[stores["visitor"]].user_id is None
    assert SessionStore(session_key=stores["ana"])["cart"] == "kept"


@pytest.mark.parametrize("in_transaction", [False, True], ids=["on-its-own", "in-a-transaction"])
def test_a_new_session_whose_key_is_taken_raises_create_error_and_spoils_nothing(
    in_transaction, django_user_model
):
    """A new session's row is one INSERT (a savepoint around it only inside a
    transaction): a key someone already has raises CreateError, as Django's does,
    and whatever the request wrote before it stays."""
    taken = SessionStore()
    taken["who"] = "first"
    taken.create()
    clash = SessionStore()
    clash._session_key = taken.session_key
    clash["who"] = "second"

    def attempt() -> None:
        with pytest.raises(CreateError):
            clash.save(must_create=True)
        django_user_model.objects.create_user("ana", "ana@example.com", "x" * 20)

    if in_transaction:
        with transaction.atomic():
            attempt()
    else:
        attempt()

    assert SessionStore(session_key=taken.session_key).load()["who"] == "first"
    assert django_user_model.objects.filter(username="ana").exists()
