"""Database sessions that load their account with them, read by SQL compiled once
and written once per login.

`SESSION_ENGINE` without Redis. Every logged-in request reads its session and
then its user: two queries, each ~0.1 ms of ORM compiling. Here the session
row (`accounts.Session`) carries the id of the account it is logged in to, so
the session is read with its user in one query compiled once; the auth backend
(`accounts.backends`) takes that user instead of loading it again, and Django
still checks it against the session (the session's auth hash, `is_active`).
With Redis, `dinnerparty.cached_sessions` keeps the sessions in the same table.

At login Django wrote the new session three times over (is the key free?
insert it; save it again with the user at the end of the request): here it is
inserted once, at the end of the request, and the primary key refuses a key
that is taken.
"""

from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.core.signals import request_started
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import Session, User
from dinnerparty.prepared import PreparedObjects

SESSION_BY_KEY = PreparedObjects(
    lambda key: Session.objects.select_related("user").filter(session_key=key), key=""
)

# The account the current request's session was read with (None: no session read
# from the database yet in this request, or one that isn't logged in).
_loaded_with_session: ContextVar[User | None] = ContextVar("loaded_with_session", default=None)


def _forget_loaded_user(**_kwargs) -> None:
    _loaded_with_session.set(None)


# Each request starts without one: a worker's next request never sees the last one's.
request_started.connect(_forget_loaded_user, dispatch_uid="dinnerparty.sessions")


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
    """Sessions in `accounts.Session`, the account's id kept beside the data."""

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def create_model_instance(self, data: dict) -> Session:
        session = super().create_model_instance(data)
        session.user_id = account_id(data)
        return session

    def _get_session_from_db(self) -> Session | None:
        """As Django's: the session unless it is missing or expired (then the key
        is dropped, so a new session gets a new one), read with its user."""
        _loaded_with_session.set(None)
        try:
            session = SESSION_BY_KEY.get(key=self.session_key)
        except Session.DoesNotExist:
            session = None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        _loaded_with_session.set(session.user)
        return session


class SessionStore(AccountSessionMixin, db.SessionStore):
    def _get_new_session_key(self) -> str:
        """A random key, not looked up first: `create()` inserts it with
        `must_create` and tries another if the database says it is taken."""
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        """A new key for the same data (login, against session fixation), as
        Django's: the old session is deleted now; the new one is created when
        the request ends (SessionMiddleware saves a modified session, and a
        session without a key is created), not written now and again then."""
        data = self._session
        old_key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)
