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
"""

import secrets
from collections.abc import Callable, Iterable

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
    cached = cache.get(key)
    if cached is not None:
        slot, html = cached
        return HttpResponse(with_token(request, html, slot))
    slot = new_csrf_slot()
    response = render({"csrf_token": slot})
    response.render()
    html = response.content.decode(response.charset)
    if response.status_code == 200:
        cache.set(key, (slot, html), CARD_TTL)
    response.content = with_token(request, html, slot)
    return response


def with_token(request: HttpRequest, html: str, slot: str) -> str:
    """The page with the request's CSRF token in its forms. A page without a form
    (the landing page for visitors) asks for no token, so sets no CSRF cookie."""
    if slot not in html:
        return html
    return html.replace(slot, get_token(request))
