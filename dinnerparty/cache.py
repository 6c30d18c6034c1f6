"""Django's `RedisCache`, failing soft: with Redis down the site keeps serving.

Django's own backend raises on a dead server, and throttles and the page cache
go through it. This subclass catches connection errors and timeouts and
answers as an empty cache would: a read misses, a write is dropped. Then

- pages are rendered from the database, uncached (`parties.page_cache`);
- the throttles see `degraded` and count in the process instead
  (`accounts.throttle`; docs/security.md says why they fail open).

After a failure the backend does not ask Redis again for `RETRY_AFTER` seconds
(a dead port answers fast, a hung one would cost `socket_timeout` on every
call). Keys it failed to write or delete are remembered (up to `MAX_PENDING`) and
deleted once Redis answers again, so a throttle reset, or a key deleted,
while Redis was away is not served stale from it afterwards.

Warnings are logged at most once a minute per process; the return is logged too.
docs/scaling.md (*Redis optional at run time*) has the measured behaviour.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER = 2.0
WARN_EVERY = 60.0
MAX_PENDING = 10_000


class FailSoftRedisCache(RedisCache):
    """`RedisCache` that treats an unreachable Redis as an empty cache."""

    def __init__(self, server: str, params: dict) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        # Short timeouts: a hung Redis must cost a request milliseconds, not seconds.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down_since: float | None = None
        self._last_warning = 0.0
        self._pending: set[str] = set()

    # --- state ----------------------------------------------------------------
    @property
    def degraded(self) -> bool:
        """True while Redis is taken to be down (a call failed under RETRY_AFTER ago)."""
        return time.monotonic() < self._down_until

    def _failed(self, error: BaseException, keys: list[str] = ()) -> None:
        now = time.monotonic()
        with self._lock:
            self._down_until = now + RETRY_AFTER
            if self._down_since is None:
                self._down_since = now
            if len(self._pending) + len(keys) <= MAX_PENDING:
                self._pending.update(keys)
            warn = now - self._last_warning >= WARN_EVERY
            if warn:
                self._last_warning = now
        if warn:
            logger.warning(
                "Redis is unavailable (%s): serving without the cache; "
                "sessions from the database, throttles per process",
                type(error).__name__,
            )

    def _recovered(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            self._down_since = None
            pending, self._pending = list(self._pending), set()
        if pending:
            try:
                self._cache.delete_many(pending)
            except UNAVAILABLE as error:
                self._failed(error, pending)
                return
        logger.warning(
            "Redis is back after %.1f s; %d stale key(s) deleted", down_for, len(pending)
        )

    def _call(
        self, fallback: Any, run: Callable[[], Any], written: Callable[[], list[str]] | None = None
    ) -> Any:
        if self.degraded:
            if written is not None:
                with self._lock:
                    keys = written()
                    if len(self._pending) + len(keys) <= MAX_PENDING:
                        self._pending.update(keys)
            return fallback
        try:
            result = run()
        except UNAVAILABLE as error:
            self._failed(error, written() if written is not None else [])
            return fallback
        if self._down_since is not None:
            self._recovered()
        return result

    def _key(self, key: str, version: int | None) -> str:
        return self.make_and_validate_key(key, version=version)

    # --- the cache API ----------------------------------------------------------
    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full = self._key(key, version)
        return self._call(
            False,
            lambda: self._cache.add(full, value, self.get_backend_timeout(timeout)),
            lambda: [full],
        )

    def get(self, key: str, default: Any = None, version=None) -> Any:
        full = self._key(key, version)
        return self._call(default, lambda: self._cache.get(full, default))

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> None:
        full = self._key(key, version)
        self._call(
            None,
            lambda: self._cache.set(full, value, self.get_backend_timeout(timeout)),
            lambda: [full],
        )

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        full = self._key(key, version)
        return self._call(False, lambda: self._cache.touch(full, self.get_backend_timeout(timeout)))

    def delete(self, key: str, version=None) -> bool:
        full = self._key(key, version)
        return self._call(False, lambda: self._cache.delete(full), lambda: [full])

    def get_many(self, keys, version=None) -> dict:
        return self._call({}, lambda: super(FailSoftRedisCache, self).get_many(keys, version))

    def has_key(self, key: str, version=None) -> bool:
        full = self._key(key, version)
        return self._call(False, lambda: self._cache.has_key(full))

    def incr(self, key: str, delta: int = 1, version=None) -> int:
        full = self._key(key, version)
        missing = object()
        result = self._call(missing, lambda: self._cache.incr(full, delta), lambda: [full])
        if result is missing:
            # As for a key that is not there: callers already handle that case.
            raise ValueError(f"Key '{key}' not found (Redis unavailable).")
        return result

    def set_many(self, data: dict, timeout: Any = DEFAULT_TIMEOUT, version=None) -> list:
        full = [self._key(key, version) for key in data]
        return self._call(
            list(data),
            lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version),
            lambda: full,
        )

    def delete_many(self, keys, version=None) -> None:
        keys = list(keys)
        full = [self._key(key, version) for key in keys]
        self._call(
            None,
            lambda: super(FailSoftRedisCache, self).delete_many(keys, version),
            lambda: full,
        )

    def clear(self) -> bool:
        return self._call(False, lambda: self._cache.clear())


def cache_degraded(cache: Any) -> bool:
    """Whether `cache` is a fail-soft Redis cache that is currently down."""
    return bool(getattr(cache, "degraded", False))
