import zoneinfo
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation

from accounts import sessions, two_factor
from accounts.devices import device_name


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


class UserLanguageMiddleware:
    """A member's saved language (`User.language`) beats what LocaleMiddleware
    chose from the cookie or the browser; blank follows those. The user row is
    loaded anyway (UserTimezoneMiddleware), so this costs no query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
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


class SessionActivityMiddleware:
    """Save a logged-in session at most every `sessions.SEEN_EVERY` while it is in
    use, so its idle expiry moves on and the profile can say when and on which
    device it was last seen — without a write on every request. A session being
    saved anyway (at login, say) takes the device then, at no extra cost. A session
    that loading ended for its age (`sessions.max_age`) gets a message saying why,
    shown on the next page (the login page, where the login wall sends it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # (`accessed`: a request that never read its session doesn't load it here.)
        if session is None or not session.accessed:
            return response
        if getattr(session, "ended_at_max_age", 0):
            messages.info(request, sessions.max_age_ended_message(session.ended_at_max_age))
            return response
        if SESSION_KEY not in session:
            return response
        if session.modified or sessions.seen_a_while_ago(session):
            session[sessions.DEVICE] = device_name(request.headers.get("User-Agent", ""))
        return response
