"""Database sessions that are read together with their account.

`SESSION_ENGINE`, with Redis or without. The session row (`accounts.Session`, Django's
documented way to extend database sessions) keeps the id of the account it is
logged in to, so a logged-in request reads its session and its user in one
query (`accounts.queries.SESSION_WITH_USER`); the auth backend
(`accounts.backends`) takes that user instead of loading it again, and Django
still checks it against the session (the auth hash, `is_active`). Keys and key
cycling at login are Django's own, with two savings: a first login (no session
stored yet) writes its row once, when the response saves it, and a new key is
proved unused by its INSERT rather than by a query first (`cycle_key`,
`_get_new_session_key`, `NEW_SESSION`).

Not Django's `cached_db` with Redis: it would read the session from Redis and
then its user from the database, two round trips where this is one.

How long a session lasts: one kept for 30 days ("keep me logged in") ends 30 days
after its last use; any other ends with the browser (the cookie) and, on the
server, after `SESSION_IDLE_AGE` (12 hours) unused. Use moves a session's expiry
on only when the session is saved, so `SessionActivityMiddleware` saves a
logged-in session at most every `SEEN_EVERY` (5 minutes) while it is in use —
not on every request — and each save records when (`last_seen`) and on what
browser (`device`), for the list of one's sessions on the profile.

However much it is used, a session ends `SESSION_MAX_AGE` (24 hours) after its
login, or `SESSION_REMEMBERED_MAX_AGE` (30 days) with "keep me logged in": the
login time is kept in its data (`LOGGED_IN`), and a session past it is deleted
when it is next loaded.
"""

import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, SessionBase
from django.core.signals import request_finished, request_started
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac
from django.utils.translation import gettext, ngettext

from accounts.models import Session, User
from accounts.queries import NEW_SESSION, SESSION_WITH_USER

# Kept in each session's data: when it was last saved (a Unix time), the device
# it runs on ("Firefox on Linux"), and when its account logged in (a Unix time).
SEEN = "_seen"
DEVICE = "_device"
LOGGED_IN = "_logged_in"
SEEN_EVERY = timedelta(minutes=5)

# The account the current request's session was read with (None: no session read
# from the database yet in this request, or one that isn't logged in).
_loaded_with_session: ContextVar[User | None] = ContextVar("loaded_with_session", default=None)


def _forget_loaded_user(**_kwargs) -> None:
    _loaded_with_session.set(None)


# Each request starts without one: a worker's next request never sees the last one's;
# and ends without one, so nothing run between requests (a test, a command) does.
request_started.connect(_forget_loaded_user, dispatch_uid="accounts.sessions")
request_finished.connect(_forget_loaded_user, dispatch_uid="accounts.sessions")


def user_loaded_with_session(user_id: int) -> User | None:
    """The user the request's session row was read with, if it is this id (the id
    the session's own data names); None otherwise, and the caller loads it."""
    user = _loaded_with_session.get()
    return user if user is not None and user.pk == user_id else None


@receiver(user_logged_in, dispatch_uid="accounts.sessions.stamp_login")
def stamp_login(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    """Every login starts the session's absolute lifetime again (`max_age`)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[LOGGED_IN] = int(time.time())


def remembered(data: dict) -> bool:
    """Was the session kept with "keep me logged in" (an expiry of its own)?"""
    expiry = data.get("_session_expiry")
    return expiry is not None and expiry != 0


def max_age(data: dict) -> int:
    """The longest a session lasts after its login, however much it is used (ASVS
    7.3.2): `SESSION_REMEMBERED_MAX_AGE` with "keep me logged in", else `SESSION_MAX_AGE`."""
    return settings.SESSION_REMEMBERED_MAX_AGE if remembered(data) else settings.SESSION_MAX_AGE


def past_max_age(data: dict) -> bool:
    logged_in = data.get(LOGGED_IN)
    if not isinstance(logged_in, int) or SESSION_KEY not in data:
        return False
    return time.time() >= logged_in + max_age(data)


def max_age_ended_message(seconds: int) -> str:
    """Why a session past its `max_age` has to log in again."""
    hours = seconds // 3600
    if hours >= 48 and hours % 24 == 0:
        days = hours // 24
        span = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    else:
        span = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return gettext(
        "You've been logged out: a login lasts %(span)s at most, however much it is used. "
        "Please log in again."
    ) % {"span": span}


def account_id(data: dict) -> int | None:
    """The id of the account a session's data is logged in to, if any."""
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class AccountSessionMixin:
    """Sessions in `accounts.Session`, the account's id kept beside the data
    (the two methods Django documents for extending database sessions), with
    the device and the time of each save; the idle limit for browser sessions."""

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    # The `max_age` (seconds) a session had when loading it ended it; 0 when none
    # did (SessionActivityMiddleware then tells its user why they must log in again).
    ended_at_max_age = 0

    def create_model_instance(self, data: dict) -> Session:
        now = timezone.now()
        data[SEEN] = int(now.timestamp())
        if SESSION_KEY in data:
            # A session logged in before logins were stamped: its lifetime starts now.
            data.setdefault(LOGGED_IN, data[SEEN])
        session = super().create_model_instance(data)
        session.user_id = account_id(data)
        session.device = str(data.get(DEVICE, ""))[:100]
        session.last_seen = now
        return session

    def cycle_key(self) -> None:
        """As Django's, a login gets a new key (no session fixation). A session
        not stored yet (a visitor's first login in this browser) has no row to
        replace: its key is drawn and its row written once, when the response
        saves it, instead of an empty row written here and updated there."""
        data = self._session  # (loading drops a key that has no row)
        if self.session_key is not None:
            super().cycle_key()
            return
        self._session_cache = data
        self.modified = True

    def _get_new_session_key(self) -> str:
        """A new random key (32 characters, ~165 bits). The new row's INSERT
        (`save(must_create=True)`) is what proves it unused: a key already taken
        raises CreateError there and `create()` draws another, so no query asks first."""
        return get_random_string(32, VALID_KEY_CHARS)

    def ended_if_past_max_age(self, data: dict) -> dict:
        """`data`, or {} once the session has outlived `max_age`: then it is deleted
        and its key dropped, whatever its use since."""
        if not past_max_age(data):
            return data
        self.delete(self.session_key)
        self._session_key = None
        self.ended_at_max_age = max_age(data)
        return {}

    def get_session_cookie_age(self) -> int:
        """How long the server keeps a session without an expiry of its own after
        its last save: one that ends with the browser, `SESSION_IDLE_AGE`."""
        if self.get_expire_at_browser_close():
            return settings.SESSION_IDLE_AGE
        return super().get_session_cookie_age()


def seen_a_while_ago(session: SessionBase) -> bool:
    """Was this session last saved `SEEN_EVERY` ago or more (or never stamped)?"""
    seen = session.get(SEEN)
    return not isinstance(seen, int) or time.time() - seen >= SEEN_EVERY.total_seconds()


def public_id(session_key: str) -> str:
    """What names a session in pages and URLs: the key itself is the login, so it
    is never shown; this is derived from it and tells nothing about it."""
    digest = salted_hmac("accounts.sessions.public_id", session_key, algorithm="sha256")
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class ActiveSession:
    id: str
    device: str
    last_seen: datetime | None
    is_current: bool


def active_sessions(user: User, *, current_key: str | None) -> list[ActiveSession]:
    """The user's unexpired sessions, the most recently used first."""
    rows = (
        Session.objects.filter(user=user, expire_date__gt=timezone.now())
        .order_by("-last_seen", "-expire_date")
        .values_list("session_key", "device", "last_seen")
    )
    return [
        ActiveSession(
            id=public_id(key),
            device=device,
            last_seen=last_seen,
            is_current=key == current_key,
        )
        for key, device, last_seen in rows
    ]


def end_sessions(*, user: User, keep: str | None, only: str | None = None) -> int:
    """Log the user out on their other devices: every session but `keep`, or
    only the one whose public id is `only`. Each is deleted through the session
    engine. Returns how many ended."""
    keys = [
        key
        for key in Session.objects.filter(user=user).values_list("session_key", flat=True)
        if key != keep and (only is None or public_id(key) == only)
    ]
    delete_sessions(keys)
    return len(keys)


def delete_sessions(keys: Iterable[str]) -> None:
    store = Session.get_session_store_class()()
    for key in keys:
        store.delete(key)


class SessionStore(AccountSessionMixin, db.SessionStore):
    def load(self) -> dict:
        """As Django's database session: the session's data, or {} when it is
        missing or expired (then its key is dropped, so a new one is made),
        here read in one query with the account it is logged in to."""
        _loaded_with_session.set(None)
        session = SESSION_WITH_USER.first(key=self.session_key or "")
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return {}
        data = self.ended_if_past_max_age(self.decode(session.session_data))
        if data:
            _loaded_with_session.set(session.user)
        return data

    def save(self, must_create: bool = False) -> None:
        """As Django's database session; a new session's row (`must_create`, at a
        login) by an INSERT compiled once (`NEW_SESSION`), a key already taken
        raising CreateError as Django's does, so `create()` draws another."""
        if self.session_key is None or not must_create:
            super().save(must_create=must_create)
            return
        session = self.create_model_instance(self._get_session(no_load=True))
        try:
            if transaction.get_connection().in_atomic_block:
                with transaction.atomic():  # a savepoint: a taken key must not spoil it
                    NEW_SESSION.insert(session)
            else:
                NEW_SESSION.insert(session)  # one statement commits on its own
        except IntegrityError:
            raise CreateError from None
