"""Redis optional at run time: with nothing listening on the cache's port the site
serves pages uncached, keeps sessions in the database, counts throttles per process
and says "degraded" on /healthz (dinnerparty/cache.py, docs/scaling.md)."""

import logging
import os
import socket

import pytest
import redis
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from accounts import throttle
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from dinnerparty import cache as fail_soft
from dinnerparty.cache import FailSoftRedisCache
from parties.models import RSVP, RSVPStatus
from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db

WRONG_PASSWORD = "not-the-right-password-at-all"


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def live_redis_url() -> str | None:
    """REDIS_URL if it answers (CI's PostgreSQL + Redis run), else db 15 on the local Redis
    (as test_middleware.py)."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        return None
    return url


@pytest.fixture
def dead_redis(settings):
    """The site configured as production is, with Redis at a port nobody answers."""
    settings.REDIS_URL = f"redis://127.0.0.1:{dead_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "dinnerparty.cache.FailSoftRedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "dinnerparty",
        }
    }
    throttle._last_fallback_warning[0] = 0.0
    throttle._local_counters.clear()
    yield caches["default"]
    throttle._local_counters.clear()


# --- the backend on its own -------------------------------------------------------------


def test_a_dead_redis_reads_as_an_empty_cache_and_drops_writes_without_raising():
    cache = FailSoftRedisCache(f"redis://127.0.0.1:{dead_port()}/0", {})

    cache.set("k", "v")
    assert cache.get("k") is None
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["k", "j"]) == {}
    assert cache.add("k", 1) is False
    assert cache.delete("k") is False
    assert cache.set_many({"a": 1}) == ["a"]
    assert cache.degraded
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")


def test_a_dead_redis_is_logged_once_a_minute_not_on_every_call(caplog):
    cache = FailSoftRedisCache(f"redis://127.0.0.1:{dead_port()}/0", {})
    caplog.set_level(logging.WARNING, logger="dinnerparty.cache")

    for _ in range(5):
        cache.get("k")
        cache._down_until = 0.0  # ask Redis again each time, not only after RETRY_AFTER

    warnings = [r for r in caplog.records if "Redis is unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_redis_is_asked_again_after_the_pause_and_stale_keys_are_deleted_on_its_return():
    url = live_redis_url()
    if url is None:
        pytest.skip("no Redis answering on REDIS_URL or 127.0.0.1:6379")
    cache = FailSoftRedisCache(url, {"KEY_PREFIX": "redis-down-test"})
    cache.set("session", "logged in")
    live_servers = cache._servers
    cache._servers = [f"redis://127.0.0.1:{dead_port()}/0"]
    cache.__dict__.pop("_cache", None)  # a client for the dead address

    cache.delete("session")  # e.g. a logout while Redis is away: the delete is lost
    assert cache.degraded

    cache._servers = live_servers
    cache.__dict__.pop("_cache", None)
    cache._down_until = 0.0  # the pause is over
    assert cache.get("other") is None  # Redis answers: the lost delete is replayed

    assert not cache.degraded
    assert cache.get("session") is None


# --- the site with Redis down -----------------------------------------------------------


def test_with_redis_down_a_guest_logs_in_sees_pages_and_replies(dead_redis):
    guest = UserFactory()
    party = DinnerPartyFactory(seats=4)
    client = Client()

    response = client.post(
        reverse("login"), {"username": guest.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("parties:list")).status_code == 200
    assert client.get(party.get_absolute_url()).status_code == 200
    response = client.post(
        reverse("parties:rsvp", args=[party.pk]), {"status": "going", "plus_ones": 1, "note": ""}
    )
    assert response.status_code == 302

    party.refresh_from_db()
    assert RSVP.objects.get(party=party, guest=guest).status == RSVPStatus.GOING
    assert party.seats_taken == 2
    # The next page shows the reply: rendered from the database, nothing stale cached.
    assert "going" in client.get(party.get_absolute_url()).content.decode().lower()
    assert dead_redis.degraded


def test_with_redis_down_the_session_lives_in_the_database(dead_redis):
    guest = UserFactory()
    client = Client()
    client.post(reverse("login"), {"username": guest.username, "password": DEFAULT_PASSWORD})

    # Redis is asked again, still misses: the session is read from its row.
    caches["default"]._down_until = 0.0
    response = client.get(reverse("parties:list"))

    assert response.status_code == 200
    assert response.wsgi_request.user == guest


def test_with_redis_down_the_login_throttle_still_locks_within_the_process(
    dead_redis, settings, caplog
):
    caplog.set_level(logging.WARNING)
    guest = UserFactory()
    client = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        response = client.post(
            reverse("login"), {"username": guest.username, "password": WRONG_PASSWORD}
        )
        assert response.status_code == 200

    locked = client.post(
        reverse("login"), {"username": guest.username, "password": DEFAULT_PASSWORD}
    )

    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    fallback = [r for r in caplog.records if "counting in this process" in r.getMessage()]
    assert len(fallback) == 1  # once a minute, not once per attempt


def test_healthz_says_redis_is_degraded_with_200_so_the_balancer_keeps_the_server(dead_redis):
    response = Client().get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "degraded": ["redis"]}


def test_cache_degraded_is_false_for_a_cache_that_cannot_fail_soft():
    assert fail_soft.cache_degraded(object()) is False
