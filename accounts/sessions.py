"""Database sessions that are read together with their account.

`SESSION_ENGINE` without Redis. The session row (`accounts.Session`, Django's
documented way to extend database sessions) keeps the id of the account it is
logged in to, so a logged-in request reads its session and its user in one
query (`accounts.queries.SESSION_WITH_USER`); the auth backend
(`accounts.backends`) takes that user instead of loading it again, and Django
still checks it against the session (the auth hash, `is_active`). Keys, key
cycling at login and everything else are Django's own.

With Redis, `accounts.cached_sessions` keeps sessions in the same table.
"""

from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.core.signals import request_finished, request_started
from django.utils import timezone

from accounts.models import Session, User
from accounts.queries import SESSION_WITH_USER

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


def account_id(data: dict) -> int | None:
    """The id of the account a session's data is logged in to, if any."""
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class AccountSessionMixin:
    """Sessions in `accounts.Session`, the account's id kept beside the data
    (the two methods Django documents for extending database sessions)."""

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict) -> Session:
        session = super().create_model_instance(data)
        session.user_id = account_id(data)
        return session


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
        _loaded_with_session.set(session.user)
        return self.decode(session.session_data)
