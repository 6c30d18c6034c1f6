"""Fixed-window rate limits on Django's cache (shared by every worker when the
cache is Redis): failed password checks, sign-ups, password-reset requests and
email-confirmation links.
docs/security.md says what is counted where, and why.

Keys are hashed, so neither the cache nor its logs hold usernames or addresses.
"""

import functools
import hashlib
import ipaddress
import logging
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

# With Redis down (dinnerparty.cache.FailSoftRedisCache is `degraded`), the counters
# live in this process instead: each worker limits on its own, so an attacker gets
# at most (workers x limit) tries per window until Redis returns. docs/security.md
# (*Rate limits when Redis is down*) says why this fails open rather than closed.
_local_counters = LocMemCache("throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
_FALLBACK_WARN_EVERY = 60.0
_last_fallback_warning = [0.0]


def counter_store() -> BaseCache:
    """Where the rate-limit counters are kept now: the shared cache, or this
    process's own while the shared one (Redis) is down."""
    if not getattr(cache, "degraded", False):
        return cache
    now = time.monotonic()
    if now - _last_fallback_warning[0] >= _FALLBACK_WARN_EVERY:
        _last_fallback_warning[0] = now
        logger.warning("Rate limits: Redis is down, counting in this process only")
    return _local_counters


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
        return longest_wait([(self, identifier)])

    def _wait(self, values: dict, identifier: str) -> int:
        count_key, started_key = self._keys(identifier)
        if values.get(count_key, 0) < self.limit:
            return 0
        left = self.window_seconds - (time.time() - values.get(started_key, time.time()))
        # The window is over even if the cache has not dropped the keys yet.
        return max(1, math.ceil(left)) if left > 0 else 0

    def hit(self, identifier: str) -> None:
        count_key, started_key = self._keys(identifier)
        store = counter_store()
        started = store.get(started_key)
        if started is not None and time.time() - started >= self.window_seconds:
            self.reset(identifier)  # a new window starts with this failure
        store.add(started_key, time.time(), self.window_seconds)
        if store.add(count_key, 1, self.window_seconds):
            return
        try:
            store.incr(count_key)
        except ValueError:  # expired between add() and incr()
            store.set(count_key, 1, self.window_seconds)

    def reset(self, identifier: str) -> None:
        counter_store().delete_many(self._keys(identifier))


def read_counters(counters: Iterable[tuple[RateLimit, str]]) -> dict:
    """The stored values of these (limit, identifier) pairs' keys, in one cache read
    (a key nothing was counted under is absent)."""
    return counter_store().get_many([key for limit, name in counters for key in limit._keys(name)])


def longest_wait(counters: Iterable[tuple[RateLimit, str]], values: dict | None = None) -> int:
    """The longest `retry_after` of these (limit, identifier) pairs, in one cache
    read (none with `values`: what `read_counters` gave for them)."""
    counters = list(counters)
    if values is None:
        values = read_counters(counters)
    return max((limit._wait(values, name) for limit, name in counters), default=0)


LOGIN_WINDOW = 15 * 60
LOGIN_PER_ACCOUNT = RateLimit("login-account", "LOGIN_FAILURES_PER_ACCOUNT", LOGIN_WINDOW)
LOGIN_PER_DEVICE = RateLimit("login-device", "LOGIN_FAILURES_PER_DEVICE", LOGIN_WINDOW)
LOGIN_PER_IP = RateLimit("login-ip", "LOGIN_FAILURES_PER_IP", LOGIN_WINDOW)
# Re-entering the password while logged in (email change, password change, account
# deletion): the same limit per account, counted apart from logins, so strangers who
# lock an account's logins don't stop its logged-in owner.
PASSWORD_CHECK_PER_ACCOUNT = RateLimit(
    "password-check-account", "LOGIN_FAILURES_PER_ACCOUNT", LOGIN_WINDOW
)
# Wrong second-factor codes (an authenticator app's or a recovery code), per account:
# the login's limit and window, counted apart (only someone with the password gets here).
SECOND_FACTOR_PER_ACCOUNT = RateLimit(
    "second-factor-account", "LOGIN_FAILURES_PER_ACCOUNT", LOGIN_WINDOW
)
SIGNUP_PER_IP = RateLimit("signup-ip", "SIGNUP_ATTEMPTS_PER_IP_PER_HOUR", 60 * 60)
RESET_PER_ADDRESS = RateLimit("reset-address", "PASSWORD_RESETS_PER_ADDRESS_PER_HOUR", 60 * 60)
RESET_PER_IP = RateLimit("reset-ip", "PASSWORD_RESETS_PER_IP_PER_HOUR", 60 * 60)
# Every email-confirmation link sent for an account (accounts.verification).
CONFIRMATIONS_PER_ACCOUNT = RateLimit(
    "confirmations-account", "EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR", 60 * 60
)
# Replies from a party's preview, each emailing a link (parties.guest_replies).
GUEST_REPLIES_PER_ADDRESS = RateLimit(
    "guest-reply-address", "GUEST_REPLIES_PER_ADDRESS_PER_HOUR", 60 * 60
)
GUEST_REPLIES_PER_IP = RateLimit("guest-reply-ip", "GUEST_REPLIES_PER_IP_PER_HOUR", 60 * 60)

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
    return ngettext(
        "Too many attempts. Please try again in %(minutes)d minute.",
        "Too many attempts. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def refusal(form) -> str | None:
    """The throttle's message if it refused this bound form, else None."""
    if not form.is_bound:
        return None
    for errors in form.errors.as_data().values():
        for error in errors:
            if error.code == THROTTLED:
                return next(iter(error))
    return None


def mark_throttled_response(response: HttpResponse) -> HttpResponse:
    """Answer 429 when the form on `response` was refused by the throttle."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and refusal(form):
        response.status_code = 429
    return response


# --- Logins: one lock per account, and device cookies -----------------------------------
# OWASP's "Slow Down Online Guessing Attacks with Device Cookies": a browser that
# has logged in to an account holds a signed cookie naming it, and its attempts on
# that account count against the cookie alone, so strangers who lock the account
# do not lock its owner out.

DEVICE_COOKIE = "login_device"
DEVICE_SALT = "accounts.throttle.device"
DEVICE_COOKIE_AGE = 365 * 24 * 60 * 60


@dataclass(frozen=True)
class Device:
    """A browser that logged in to `account_id`; `nonce` names this cookie."""

    account_id: int
    nonce: str


def device_of(request: HttpRequest) -> Device | None:
    """The device cookie the request carries, if it is ours, intact and under a year old."""
    value = request.COOKIES.get(DEVICE_COOKIE, "")
    if not value:
        return None
    try:
        data = signing.loads(value, salt=DEVICE_SALT, max_age=DEVICE_COOKIE_AGE)
        return Device(account_id=int(data["a"]), nonce=str(data["n"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def remember_device(response: HttpResponse, account_id: int) -> None:
    """After a successful login: a new device cookie (and so a fresh counter)."""
    value = signing.dumps({"a": account_id, "n": secrets.token_urlsafe(16)}, salt=DEVICE_SALT)
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


@dataclass
class LoginAttempt:
    """The counters one login attempt answers to: from a device that logged in to
    the account before, that device's own; otherwise the account's (for a name no
    account has, the name's, so both answer alike) and the client address's."""

    counters: tuple[tuple[RateLimit, str], ...]
    # What `retry_after` read of them (None until it has): `succeeded` clears
    # only counters that held something.
    seen: dict | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls, request: HttpRequest | None, *, identifier: str, account_ids: list[int]
    ) -> "LoginAttempt":
        """`identifier` as typed, normalised; `account_ids` the accounts it names (at
        most two: one's username may be another's email address)."""
        device = device_of(request) if request is not None else None
        if device is not None and device.account_id in account_ids:
            return cls(((LOGIN_PER_DEVICE, device.nonce),))
        accounts = [account_key(pk) for pk in account_ids]
        if not accounts and identifier:
            accounts = [f"name:{identifier}"]
        ip = client_ip(request) if request is not None else ""
        return cls((*((LOGIN_PER_ACCOUNT, name) for name in accounts), (LOGIN_PER_IP, ip)))

    def retry_after(self) -> int:
        self.seen = read_counters(self.counters)
        return longest_wait(self.counters, self.seen)

    def failed(self) -> None:
        for limit, name in self.counters:
            limit.hit(name)

    def succeeded(self, account_id: int) -> None:
        """The password was right: clear that account's (or this device's) count,
        unless `retry_after` found none (the usual login then writes nothing; a
        failure counted in between stays, which errs on the strict side).
        The address's count stays: it may be guessing at other accounts."""
        for limit, name in self.counters:
            if limit is not LOGIN_PER_DEVICE and name != account_key(account_id):
                continue
            if self.seen is None or any(key in self.seen for key in limit._keys(name)):
                limit.reset(name)
