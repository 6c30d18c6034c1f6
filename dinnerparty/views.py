from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView


class HomeView(TemplateView):
    template_name = "home.html"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app and its database answer, 503 naming what failed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "failed": ["database"]}, status=503)
    return JsonResponse({"status": "ok"})
