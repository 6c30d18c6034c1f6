"""A member's private calendar feed, `/calendar/<token>.ics`: no login (calendar
apps fetch it on their own), a 404 for a wrong or revoked token. And the "new
link" button on the profile page that revokes the old one."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from django.views import View

from parties import calendar, selectors, services
from parties.invites import parse_invite_token

FEED_NOT_FOUND = gettext_lazy(
    "This calendar link is not valid any more. Get the new one from your profile."
)


class CalendarFeedView(View):
    """The parties the token's member hosts or is going or maybe to, each with the
    place as that party's page shows it to them. Two queries, however many parties."""

    http_method_names = ["get", "head"]

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        token = parse_invite_token(token)  # (a NUL byte never reaches the database)
        user = selectors.feed_owner(token) if token else None
        if user is None or not user.is_active:
            raise Http404(FEED_NOT_FOUND)
        # No cookie comes with a calendar app: the text is in the owner's language.
        with translation.override(user.language or settings.LANGUAGE_CODE):
            return self.feed(request, user)

    def feed(self, request: HttpRequest, user) -> HttpResponse:
        entries = [
            calendar.CalendarEntry(
                party=party,
                url=request.build_absolute_uri(party.get_absolute_url()),
                location=party.venue_for_viewer(user),
            )
            for party in selectors.feed_parties(user, now=timezone.now())
        ]
        body = calendar.to_ics(entries, name="DinnerParty")
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="dinnerparty.ics"'
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        return response


class CalendarFeedRenewView(LoginRequiredMixin, View):
    """POST only: the member's first feed link, or a new one (calendars subscribed
    to the old one stop updating)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        renewed = services.calendar_feed_renew(user=request.user)
        if renewed:
            text = gettext(
                "Your calendar feed has a new link: the old one no longer works. "
                "Subscribe to the new one in your calendar app."
            )
        else:
            text = gettext("Your calendar feed is ready: subscribe to it in your calendar app.")
        messages.success(request, text)
        return HttpResponseRedirect(reverse("profile") + "#calendar-feed")
