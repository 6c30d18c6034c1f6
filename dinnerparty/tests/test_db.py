"""The PostgreSQL backend's health check (dinnerparty/db/postgresql): a kept
connection is checked without a query, and one the server has ended is replaced."""

import select
import time
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the health check is PostgreSQL's"
    ),
]


@pytest.fixture
def other():
    """A second connection to the test database, checked as a request would be."""
    default = connections[DEFAULT_DB_ALIAS]
    wrapper = type(default)({**default.settings_dict, "CONN_HEALTH_CHECKS": True})
    yield wrapper
    wrapper.close()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def start_request(wrapper) -> None:
    """What Django does as a request starts: the next query checks the connection."""
    wrapper.close_if_unusable_or_obsolete()
    assert not wrapper.health_check_done


def test_a_live_connection_is_kept_without_a_query(other):
    pid = backend_pid(other)
    start_request(other)
    kept = other.connection

    # Django's own check is `is_usable()`: SELECT 1.
    with mock.patch.object(type(other), "is_usable", side_effect=AssertionError("a query")):
        other.close_if_health_check_failed()

    assert other.health_check_done
    assert other.connection is kept
    assert backend_pid(other) == pid


def test_a_connection_the_server_ended_is_replaced_before_the_next_query(other):
    pid = backend_pid(other)
    start_request(other)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's goodbye reaches the socket.
    poller = select.poll()
    poller.register(other.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 5
    while not poller.poll(50) and time.monotonic() < deadline:
        pass

    assert not other.is_open_and_idle()
    new_pid = backend_pid(other)  # the request's first query: no error

    assert new_pid != pid


def test_a_connection_inside_a_transaction_is_checked_the_same_way(other):
    pid = backend_pid(other)
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute("SELECT 1")
    other.health_check_done = False

    other.close_if_health_check_failed()

    assert other.connection is not None
    assert backend_pid(other) == pid
    other.rollback()
    other.set_autocommit(True)


def test_a_closed_connection_is_not_idle(other):
    backend_pid(other)
    other.connection.close()

    assert not other.is_open_and_idle()
