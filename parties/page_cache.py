"""Whole pages cached per viewer, with a fresh CSRF token in every response.

A page (the list, a guest's party page, the landing page for visitors) is cached
under a key made of everything it shows: the viewer (`selectors.viewer_key`,
added here to every page's key) and what the view names (the cards' key, the
party's version…). A page with a flash message waiting, or one the view says
not to cache (`None`), is rendered as usual.

The cached copy is rendered with a placeholder where `{% csrf_token %}` goes;
each response gets the request's own masked token in its place, so forms keep
working in every browser and no response repeats another's token. The
placeholder is drawn at random for each render and cached with the page, so no
text on the page (a name, a title) can contain it: a fixed one typed into a name
once put every viewer's token into the page where the name was shown.

With Redis as the cache, each worker also keeps the pages it served lately in its
own memory (`LocalPages`, up to `PAGE_CACHE_LOCAL_BYTES`), so a page asked for
again costs no round trip to Redis. That is safe because a page's key names
everything it shows (a change makes a new key; no page is ever deleted from the
cache), so every process holding a key holds the same page.
"""

import secrets
import sys
import threading
from collections.abc import Callable, Iterable

from cachetools import TTLCache
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from parties.cards import CARD_TTL, fragment_key
from parties.selectors import viewer_key


def new_csrf_slot() -> str:
    """A placeholder for the CSRF token: random, so no user text holds it, and
    wrapped in control characters, which no text field takes (common.text)."""
    return f"\x1fcsrf-{secrets.token_hex(16)}\x1f"


def cached_page(
    request: HttpRequest,
    parts: Iterable | None,
    render: Callable[[dict], HttpResponse],
) -> HttpResponse:
    """The page for `parts` (what it shows besides the viewer; None: don't
    cache), from the cache or from `render(extra_context)`, which renders it with
    the given extra context."""
    if parts is None or len(messages.get_messages(request)):
        return render({})
    # ("pages:": entries are (placeholder, html); "page:" ones held html alone.)
    key = f"pages:{request.path}:{fragment_key([viewer_key(request.user), tuple(parts)])}"
    cached = local_pages.get(key)
    if cached is None:
        cached = cache.get(key)
        if cached is not None:
            local_pages.put(key, cached)
    if cached is not None:
        slot, html = cached
        return HttpResponse(with_token(request, html, slot))
    slot = new_csrf_slot()
    response = render({"csrf_token": slot})
    response.render()
    html = response.content.decode(response.charset)
    if response.status_code == 200:
        cache.set(key, (slot, html), CARD_TTL)
        local_pages.put(key, (slot, html))
    response.content = with_token(request, html, slot)
    return response


def with_token(request: HttpRequest, html: str, slot: str) -> str:
    """The page with the request's CSRF token in its forms. A page without a form
    (the landing page for visitors) asks for no token, so sets no CSRF cookie."""
    if slot not in html:
        return html
    return html.replace(slot, get_token(request))


class LocalPages:
    """The pages this process cached lately, in its own memory, for `CARD_TTL`
    seconds at most and `PAGE_CACHE_LOCAL_BYTES` in all (least recently used go
    first; 0 keeps none). In front of a shared cache only: settings turn it on
    with Redis, where it saves a round trip per page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # `make run` serves from threads
        self._limit: int | None = None
        self._pages: TTLCache | None = None

    def _store(self) -> TTLCache | None:
        limit = int(getattr(settings, "PAGE_CACHE_LOCAL_BYTES", 0))
        if limit != self._limit:  # (tests change the setting)
            self._limit = limit
            self._pages = TTLCache(limit, CARD_TTL, getsizeof=entry_size) if limit > 0 else None
        return self._pages

    def get(self, key: str) -> tuple[str, str] | None:
        with self._lock:
            pages = self._store()
            return None if pages is None else pages.get(key)

    def put(self, key: str, entry: tuple[str, str]) -> None:
        with self._lock:
            pages = self._store()
            if pages is not None and entry_size(entry) <= pages.maxsize:
                pages[key] = entry

    def clear(self) -> None:
        with self._lock:
            if self._pages is not None:
                self._pages.clear()


def entry_size(entry: tuple[str, str]) -> int:
    """The memory a cached page takes (its text, as Python holds it)."""
    return sum(sys.getsizeof(text) for text in entry)


local_pages = LocalPages()
