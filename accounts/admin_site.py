"""The admin site: Django's, with a login throttled like the site's, open only to
staff who have passed the second factor (accounts.two_factor)."""

from django.contrib import admin
from django.contrib.auth.views import RedirectURLMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import two_factor
from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.throttle import mark_throttled_response, remember_device


class DinnerPartyAdminSite(admin.AdminSite):
    site_header = _("DinnerParty admin")
    site_title = _("DinnerParty admin")
    index_title = _("Parties, guests and accounts")
    login_form = ThrottledAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and two_factor.is_verified(request.user)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        user = request.user
        if request.method == "GET" and super().has_permission(request):
            # Staff, but not past the second factor in this session: its code step,
            # or setting an app up the first time; then on to the admin.
            next_url = RedirectURLMixin().get_redirect_url(request) or reverse(
                "admin:index", current_app=self.name
            )
            if not two_factor.is_verified(user):
                return HttpResponseRedirect(two_factor.second_factor_url(user, next_url))
        response = mark_throttled_response(super().login(request, extra_context))
        if (
            request.method == "POST"
            and response.status_code == 302
            and request.user.is_authenticated
        ):
            remember_device(response, request.user.pk)  # logged in just now
        return response
