"""What the parties views share: their messages, the hosts' lookup of a party,
and `PartyActionView` (a POST that changes a party, its form shown again with
what was typed when it has errors)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views import View

from parties import services
from parties.models import DinnerParty, RSVPStatus

FORM_ERRORS = "Please fix the errors below."
PARTY_NOT_FOUND = "Party not found."


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


def plus_ones_text(singular: str, count: int) -> str:
    """`singular` ("with %(count)d plus-one") for `count`, pluralised."""
    return ngettext(singular, singular + "s", count) % {"count": count}


def say_outcome(request: HttpRequest, outcome: services.RsvpOutcome, party: DinnerParty) -> None:
    """The flash messages for a reply that counted (here, and by a reply's emailed link)."""
    status = outcome.status
    if status == RSVPStatus.GOING:
        extra = outcome.rsvp.plus_ones
        company = plus_ones_text(" with %(count)d plus-one", extra) if extra else ""
        messages.success(request, f"You're going to {party.describe()}{company}!")
    elif status == RSVPStatus.WAITLISTED:
        free, needed = party.seats_left, outcome.rsvp.seats_needed
        if free > 0:
            extra = free - 1
            alone = plus_ones_text("with up to %(count)d plus-one", extra) if extra else "alone"
            messages.warning(
                request,
                ngettext("Only %(count)d seat left", "Only %(count)d seats left", free)
                % {"count": free}
                + f" at {party.describe()}: "
                f"come {alone} now, or wait for {needed} seats together — you're "
                f"#{outcome.waitlist_position} on the waitlist.",
            )
        else:
            messages.warning(
                request,
                f"The table is full — you're #{outcome.waitlist_position} on the waitlist for "
                f"{party.describe()}. We'll move you to the table if a seat frees up.",
            )
    elif status == RSVPStatus.MAYBE:
        messages.info(request, f"Noted: you might come to {party.describe()}.")
    else:
        messages.info(
            request, f"Sorry you can't make it to {party.describe()}. Your reply is saved."
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
