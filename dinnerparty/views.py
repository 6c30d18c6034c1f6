import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from parties.cards import CARD_TTL, PUBLIC_LISTING, PageParties, cards_key, load_cards
from parties.pages import cached_page

logger = logging.getLogger(__name__)

LANDING_CARDS = 6


class HomeView(TemplateView):
    """The landing page: what DinnerParty is, and the next public parties."""

    template_name = "home.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        now, viewer = timezone.now(), request.user
        rows = PUBLIC_LISTING.rows(viewer=viewer, now=now, limit=LANDING_CARDS, offset=0)
        key = cards_key(rows, viewer, now)
        parties = PageParties([row["pk"] for row in rows], load_cards(viewer))

        def render(extra: dict) -> HttpResponse:
            context = self.get_context_data(parties=parties, cards_key=key, card_ttl=CARD_TTL)
            return self.render_to_response({**context, **extra})

        # Visitors who aren't logged in all see the same page: it is cached, keyed
        # by the cards it shows. A logged-in member's page is rendered for them.
        return cached_page(request, None if viewer.is_authenticated else (key,), render)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app, its database and (when configured) Redis answer;
    503 naming the parts that failed."""
    failed = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        failed.append("database")
    if settings.REDIS_URL and not redis_answers():
        failed.append("redis")
    if failed:
        return JsonResponse({"status": "error", "failed": failed}, status=503)
    return JsonResponse({"status": "ok"})


def redis_answers() -> bool:
    try:
        cache.set("healthz", "ok", timeout=10)
        return cache.get("healthz") == "ok"
    except Exception:  # noqa: BLE001 -- any Redis client error means "not answering"
        logger.exception("Health check: Redis did not answer")
        return False


def hello_world(request: HttpRequest) -> HttpResponse:
    """The benchmark's ceiling: a constant response through the full middleware."""
    return HttpResponse(b"Hello, world", content_type="text/plain")
