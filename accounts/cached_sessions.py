"""`SESSION_ENGINE` with Redis: Django's cached database sessions, kept in the
same table as `accounts.sessions` (`accounts.Session`, with the account's id).
A session found in the cache costs no query; its user is then loaded by id."""

from django.contrib.sessions.backends import cached_db

from accounts.sessions import AccountSessionMixin, expired_by_its_own_data


class SessionStore(AccountSessionMixin, cached_db.SessionStore):
    def load(self) -> dict:
        """As Django's, and a copy whose time has run out is not used even if the
        cache still holds it (its row, expired, is no longer read either)."""
        data = super().load()
        if data and expired_by_its_own_data(data):
            self._session_key = None
            return {}
        return self.ended_if_past_max_age(data)
