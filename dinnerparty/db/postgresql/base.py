"""Django's PostgreSQL backend, with a health check that costs no round trip.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` on a kept connection before
each request's first query, so that a connection the server has dropped
(a restart, `idle_session_timeout`, an administrator) is replaced rather than
failing that request. When PostgreSQL ends a connection it sends an error and
closes the socket, so an idle connection with anything to read, or one that
libpq already knows is broken, is closed here without asking the server; a
connection with nothing to read is used. The `SELECT 1` was one of the ten to
thirteen round trips of a reply (RSVP POST), on every request that uses the
database. After a query has failed, Django still checks with `is_usable()`
(`SELECT 1`) at the end of the request, as before.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is None
            or not self.health_check_enabled
            or self.health_check_done
            or self.pool
        ):
            return
        if not self.is_open_and_idle():
            self.close()
        self.health_check_done = True

    def is_open_and_idle(self) -> bool:
        """True if the server has not ended the connection: libpq holds it as
        good, and the server has sent nothing since its last reply (it has
        nothing to say to a client between queries but goodbye)."""
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        pgconn = conn.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)
