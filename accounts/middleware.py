import zoneinfo
from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor


class UserTimezoneMiddleware:
    """Show times not tied to a party in the logged-in user's own time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.timezone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class SecondFactorMiddleware:
    """A session whose login waits for its code step (`accounts.two_factor`) opens
    nothing but that step and the logout: every other request is sent to the step,
    which then carries on to where it was going. Sessions without such a login
    (most) pay one lookup in session data they have already loaded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if two_factor.second_step_pending(request):
            open_paths = {reverse("two_factor_verify"), reverse("logout")}
            if request.path not in open_paths:
                if request.user.is_authenticated and not two_factor.is_verified(request.user):
                    return redirect_to_login(request.get_full_path(), reverse("two_factor_verify"))
                request.session.pop(two_factor.PENDING_SESSION_KEY, None)  # stale
        return self.get_response(request)
