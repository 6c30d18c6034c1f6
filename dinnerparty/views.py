from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from parties.models import DinnerParty, Visibility


class HomeView(TemplateView):
    """The landing page: what DinnerParty is, and the next public parties."""

    template_name = "home.html"

    def get_context_data(self, **kwargs) -> dict:
        parties = (
            DinnerParty.objects.upcoming()
            .filter(visibility=Visibility.PUBLIC)
            .select_related("host")
            .order_by("starts_at", "pk")[:6]
        )
        return super().get_context_data(parties=parties, **kwargs)


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
