"""Whole pages cached per viewer, with a fresh CSRF token in every response.

A page (the list, a guest's party page, the landing page for visitors) is cached
under a key made of everything it shows: the viewer (`selectors.viewer_key`,
added here to every page's key) and what the view names (the cards' key, the
party's version…). A page with a flash message waiting, or one the view says
not to cache (`None`), is rendered as usual.

The cached copy is rendered with a placeholder where `{% csrf_token %}` goes;
each response gets the request's own masked token in its place, so forms keep
working in every browser and no response repeats another's token.
"""

from collections.abc import Callable, Iterable

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

from parties.cards import CARD_TTL, fragment_key
from parties.selectors import viewer_key

# Never typed by anyone, never sent: replaced before any response leaves.
CSRF_SLOT = "\x1fcsrf-token\x1f"


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
    key = f"page:{request.path}:{fragment_key([viewer_key(request.user), tuple(parts)])}"
    html = cache.get(key)
    if html is not None:
        return HttpResponse(with_token(request, html))
    response = render({"csrf_token": CSRF_SLOT})
    response.render()
    html = response.content.decode(response.charset)
    if response.status_code == 200:
        cache.set(key, html, CARD_TTL)
    response.content = with_token(request, html)
    return response


def with_token(request: HttpRequest, html: str) -> str:
    """The page with the request's CSRF token in its forms. A page without a form
    (the landing page for visitors) asks for no token, so sets no CSRF cookie."""
    if CSRF_SLOT not in html:
        return html
    return html.replace(CSRF_SLOT, get_token(request))
