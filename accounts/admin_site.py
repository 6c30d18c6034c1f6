"""The admin site: Django's, with a login throttled like the site's."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.throttle import mark_throttled_response


class DinnerPartyAdminSite(admin.AdminSite):
    site_header = "DinnerParty admin"
    site_title = "DinnerParty admin"
    index_title = "Parties, guests and accounts"
    login_form = ThrottledAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return mark_throttled_response(super().login(request, extra_context))
