"""Django's database sessions, read by SQL compiled once and written once per login.

`SESSION_ENGINE` without Redis: every logged-in request reads its session, and
the ORM spent ~0.1 ms compiling that lookup each time (with Redis,
`cached_db` reads the database only on a cache miss). At login Django wrote the
new session three times over (is the key free? insert it; save it again with
the user at the end of the request): here it is inserted once, at the end of
the request, and the primary key refuses a key that is taken.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string

from dinnerparty.prepared import PreparedObjects

SESSION_BY_KEY = PreparedObjects(lambda key: Session.objects.filter(session_key=key), key="")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        """As Django's: the session unless it is missing or expired (then the key
        is dropped, so a new session gets a new one)."""
        try:
            session = SESSION_BY_KEY.get(key=self.session_key)
        except Session.DoesNotExist:
            session = None
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        return session

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
