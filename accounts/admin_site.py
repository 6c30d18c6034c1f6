"""The admin site: Django's, with a login throttled like the site's."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.throttle import mark_throttled_response, remember_device


class DinnerPartyAdminSite(admin.AdminSite):
    site_header = "DinnerParty admin"
    site_title = "DinnerParty admin"
    index_title = "Parties, guests and accounts"
    login_form = ThrottledAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = mark_throttled_response(super().login(request, extra_context))
        if (
            request.method == "POST"
            and response.status_code == 302
            and request.user.is_authenticated
        ):
            remember_device(response, request.user.pk)  # logged in just now
        return response
