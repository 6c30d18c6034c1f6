"""`SESSION_ENGINE` with Redis: Django's cached database sessions, kept in the
same table as `dinnerparty.sessions` (`accounts.Session`, with the account's id).
A session found in the cache costs no query (its user is then loaded by id); one
read from the database comes with its user, as without Redis."""

from django.contrib.sessions.backends import cached_db

from dinnerparty.sessions import AccountSessionMixin


class SessionStore(AccountSessionMixin, cached_db.SessionStore):
    pass
