"""Fixed-window rate limits on Django's cache (shared by every worker when the
cache is Redis). Used for login failures, sign-ups and password-reset requests.

Keys are hashed, so neither the cache nor its logs hold usernames or addresses.
"""

import functools
import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit_setting: str
    window_seconds: int

    @property
    def limit(self) -> int:
        return getattr(settings, self.limit_setting)

    def _keys(self, identifier: str) -> tuple[str, str]:
        digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()
        base = f"ratelimit:{self.name}:{digest}"
        return f"{base}:count", f"{base}:started"

    def retry_after(self, identifier: str) -> int:
        """Seconds until `identifier` may try again; 0 when it is not limited."""
        count_key, started_key = self._keys(identifier)
        values = cache.get_many([count_key, started_key])
        if values.get(count_key, 0) < self.limit:
            return 0
        left = self.window_seconds - (time.time() - values.get(started_key, time.time()))
        # The window is over even if the cache has not dropped the keys yet.
        return max(1, math.ceil(left)) if left > 0 else 0

    def hit(self, identifier: str) -> None:
        count_key, started_key = self._keys(identifier)
        started = cache.get(started_key)
        if started is not None and time.time() - started >= self.window_seconds:
            self.reset(identifier)  # a new window starts with this failure
        cache.add(started_key, time.time(), self.window_seconds)
        if cache.add(count_key, 1, self.window_seconds):
            return
        try:
            cache.incr(count_key)
        except ValueError:  # expired between add() and incr()
            cache.set(count_key, 1, self.window_seconds)

    def reset(self, identifier: str) -> None:
        cache.delete_many(self._keys(identifier))


LOGIN_PER_USERNAME = RateLimit("login-username", "LOGIN_FAILURES_PER_USERNAME", 15 * 60)
LOGIN_PER_IP = RateLimit("login-ip", "LOGIN_FAILURES_PER_IP", 15 * 60)
SIGNUP_PER_IP = RateLimit("signup-ip", "SIGNUPS_PER_IP_PER_HOUR", 60 * 60)
RESET_PER_ADDRESS = RateLimit("reset-address", "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR", 60 * 60)
RESET_PER_IP = RateLimit("reset-ip", "PASSWORD_RESETS_PER_IP_PER_HOUR", 60 * 60)

THROTTLED = "throttled"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind our own proxies the one the
    outermost proxy saw.

    X-Forwarded-For is read only when the peer is a trusted proxy
    (FORWARDED_ALLOW_IPS), and only the entry TRUSTED_PROXY_COUNT places from
    its right: our proxies appended those, anything further left is whatever the
    client sent. A header that is missing, too short or not an address: REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or not _is_trusted_proxy(remote):
        return remote
    hops = forwarded.split(",")
    count = settings.TRUSTED_PROXY_COUNT
    if count < 1 or len(hops) < count:
        return remote
    return _address(hops[-count]) or remote


def _address(entry: str) -> str | None:
    """The IP address in one X-Forwarded-For entry ("a.b.c.d", "a.b.c.d:port",
    "v6" or "[v6]:port"), normalised; None when it is not one."""
    host = entry.strip()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _is_trusted_proxy(remote: str) -> bool:
    entries = settings.FORWARDED_ALLOW_IPS
    if isinstance(entries, str):
        entries = entries.split(",")
    trust_all, networks = _trusted_networks(tuple(entry.strip() for entry in entries))
    if trust_all:
        return True
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in network for network in networks)


@functools.lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[bool, tuple]:
    """("*" given, the networks named), parsed once per setting's value; an entry
    that is neither is ignored (trusting nothing for it)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    return "*" in entries, tuple(networks)


def too_many_attempts_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many attempts. Please try again in {minutes} {unit}."


def mark_throttled_response(response: HttpResponse) -> HttpResponse:
    """Answer 429 when the login form on `response` was refused by the throttle."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.is_bound and form.has_error(NON_FIELD_ERRORS, THROTTLED):
        response.status_code = 429
    return response
