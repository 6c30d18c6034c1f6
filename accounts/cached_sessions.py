"""`SESSION_ENGINE` with Redis: Django's cached database sessions, kept in the
same table as `accounts.sessions` (`accounts.Session`, with the account's id).
A session found in the cache costs no query; its user is then loaded by id."""

from django.contrib.sessions.backends import cached_db

from accounts.sessions import AccountSessionMixin


class SessionStore(AccountSessionMixin, cached_db.SessionStore):
    pass
