"""What the parties views share: their messages, the hosts' lookup of a party,
and `PartyActionView` (a POST that changes a party, its form shown again with
what was typed when it has errors)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from parties import services
from parties.models import DinnerParty, RSVPStatus

FORM_ERRORS = _("Please fix the errors below.")
PARTY_NOT_FOUND = _("Party not found.")


class HostOnlyMixin(LoginRequiredMixin):
    """Only the hosts (host, co-hosts, superusers) find the party at all: others get a 404."""

    def get_queryset(self):
        return DinnerParty.objects.editable_by(self.request.user).select_related("host")


class PartyActionView(LoginRequiredMixin, View):
    """A POST-only change to a party. The party is looked up among those the user
    may act on (404 otherwise); a form with errors is shown again with what was
    typed, so nothing is lost."""

    http_method_names = ["post"]
    form_class: type = None
    form_prefix: str | None = None
    heading = ""

    def parties(self):
        return DinnerParty.objects.editable_by(self.request.user)

    def get_form(self, party: DinnerParty):
        return self.form_class(self.request.POST, prefix=self.form_prefix)

    def post(self, request: HttpRequest, pk: int, **kwargs) -> HttpResponse:
        party = get_object_or_404(self.parties().select_related("host"), pk=pk)
        form = self.get_form(party)
        if form.is_valid():
            try:
                message = self.act(party, form)
            except services.MenuError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, message)
                return redirect(party.get_absolute_url())
        messages.error(request, FORM_ERRORS)
        return render(
            request,
            "parties/party_action_form.html",
            {"party": party, "form": form, "heading": self.heading, "action": request.path},
            status=400,
        )

    def act(self, party: DinnerParty, form) -> str:
        raise NotImplementedError


def say_outcome(request: HttpRequest, outcome: services.RsvpOutcome, party: DinnerParty) -> None:
    """The flash messages for a reply that counted (here, and by a reply's emailed link)."""
    status = outcome.status
    party_text = party.describe()
    if status == RSVPStatus.GOING:
        extra = outcome.rsvp.plus_ones
        if extra:
            text = ngettext(
                "You're going to %(party)s with %(count)d plus-one!",
                "You're going to %(party)s with %(count)d plus-ones!",
                extra,
            ) % {"party": party_text, "count": extra}
        else:
            text = gettext("You're going to %(party)s!") % {"party": party_text}
        messages.success(request, text)
    elif status == RSVPStatus.WAITLISTED:
        free, needed = party.seats_left, outcome.rsvp.seats_needed
        values = {
            "count": free,
            "party": party_text,
            "needed": needed,
            "position": outcome.waitlist_position,
            "extra": free - 1,
        }
        if free > 0:
            seats = ngettext(
                "Only %(count)d seat left at %(party)s:",
                "Only %(count)d seats left at %(party)s:",
                free,
            )
            if free > 1:
                come = ngettext(
                    "come with up to %(extra)d plus-one now, or wait for %(needed)d seats "
                    "together — you're #%(position)d on the waitlist.",
                    "come with up to %(extra)d plus-ones now, or wait for %(needed)d seats "
                    "together — you're #%(position)d on the waitlist.",
                    free - 1,
                )
            else:
                come = gettext(
                    "come alone now, or wait for %(needed)d seats together — you're "
                    "#%(position)d on the waitlist."
                )
            messages.warning(request, f"{seats % values} {come % values}")
        else:
            messages.warning(
                request,
                gettext(
                    "The table is full — you're #%(position)d on the waitlist for "
                    "%(party)s. We'll move you to the table if a seat frees up."
                )
                % values,
            )
    elif status == RSVPStatus.MAYBE:
        messages.info(
            request, gettext("Noted: you might come to %(party)s.") % {"party": party_text}
        )
    else:
        messages.info(
            request,
            gettext("Sorry you can't make it to %(party)s. Your reply is saved.")
            % {"party": party_text},
        )
    if outcome.promoted:
        count = len(outcome.promoted)
        messages.info(
            request,
            ngettext(
                "%(count)d guest moved up from the waitlist.",
                "%(count)d guests moved up from the waitlist.",
                count,
            )
            % {"count": count},
        )


def welcome_guest(request: HttpRequest, result: services.GuestReplyOutcome) -> None:
    """After a reply without a password counted (by its emailed link, or an
    invitation's): log the browser in to the guest account (never one with a
    password: the service refuses those), then say what happened."""
    if not request.user.is_authenticated:
        login(request, result.guest, backend=settings.AUTHENTICATION_BACKENDS[0])
    say_outcome(request, result.outcome, result.outcome.rsvp.party)
    if result.created:
        messages.info(
            request,
            gettext(
                "We've made you a guest account, %(username)s, so you can change your "
                "reply. Set a password to keep it."
            )
            % {"username": result.guest.username},
        )
