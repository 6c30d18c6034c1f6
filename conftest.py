import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fast_hasher_and_clean_cache(settings):
    """MD5 keeps the suite fast; tests about hashing set their own hashers.
    The cache holds rate-limit counters, so each test starts with none (and no
    page from an earlier test, in the shared cache or the process's own)."""
    from parties.page_cache import local_pages

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "accounts.hashers.DinnerPartyArgon2Hasher",
    ]
    cache.clear()
    local_pages.clear()
    yield
    cache.clear()
    local_pages.clear()


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Tasks run in-process once the change commits (so `mail.outbox` holds the
    emails): tests about the database queue ask for the `task_queue` fixture."""
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["immediate"]}}


@pytest.fixture(autouse=True)
def _default_language():
    """LocaleMiddleware leaves the last request's language active in the thread:
    each test starts, and ends, in the default language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def one_cache_window(time_machine):
    """Cached pages and cards are keyed by the CARD_TTL-long slice of time they
    were made in ("in 3 days" may change with it). A test that asks for a page
    twice and expects the second from the cache starts at the beginning of a
    slice, so that it cannot straddle two; the clock still runs."""
    from datetime import UTC, datetime

    from parties.cards import CARD_TTL

    start = int(datetime.now(UTC).timestamp()) // CARD_TTL * CARD_TTL
    time_machine.move_to(datetime.fromtimestamp(start + 1, UTC), tick=True)
