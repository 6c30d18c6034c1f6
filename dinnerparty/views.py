import logging
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app and its database answer; 503 naming the database when it
    does not (this server cannot serve: a load balancer should take it out).

    Redis (when configured) not answering is reported but answered with 200,
    `{"status": "degraded", "degraded": ["redis"]}`: the site serves without it
    (dinnerparty/cache.py), and Redis is shared, so a 503 would make a load
    balancer take every app server out at once (docs/scaling.md)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "failed": ["database"]}, status=503)
    if settings.REDIS_URL and not redis_answers():
        return JsonResponse({"status": "degraded", "degraded": ["redis"]})
    return JsonResponse({"status": "ok"})


def redis_answers() -> bool:
    """A write and a read through the cache. The fail-soft backend (dinnerparty/cache.py)
    answers as an empty cache when Redis is down, so the read then misses."""
    try:
        cache.set("healthz", "ok", timeout=10)
        return cache.get("healthz") == "ok"
    except Exception:  # noqa: BLE001 -- any Redis client error means "not answering"
        logger.exception("Health check: Redis did not answer")
        return False


# Seconds a visitor (or a client) is asked to wait when the database is away:
# a PostgreSQL restart or a failover takes about this long.
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: when the error is the database being unavailable (a restart,
    a dropped connection, a lock wait past its timeout), a friendly 503 with
    Retry-After instead; anything else, Django's 500 page (templates/500.html).
    Django calls this inside its `except` block, so `sys.exc_info()` names the error.

    An outage is expected, not a bug: it is logged as one WARNING line naming the
    part and the error, and the response is marked as logged so that Django does not
    log it again at ERROR with the whole traceback (it does that for every response
    made from an exception, `django.utils.log.log_response`). A 500 keeps its
    ERROR line and traceback."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        logger.warning(
            "Database unavailable, answered 503 with Retry-After: %s %s (%s: %s)",
            request.method,
            request.path,
            type(error).__name__,
            first_line(error),
        )
        response = database_unavailable()
        response._has_been_logged = True  # noqa: SLF001 -- Django's own flag, see above
        return response
    return defaults.server_error(request)


def first_line(error: BaseException, limit: int = 200) -> str:
    """The error's message on one line, cut to `limit` characters."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def database_unavailable() -> HttpResponse:
    """The friendly 503: templates/503.html, rendered without a request or the database."""
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response
