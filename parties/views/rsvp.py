"""A guest's reply to a party."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View

from parties import services
from parties.forms import ComeWithFewerForm, RSVPForm
from parties.invites import parse_invite_token
from parties.models import DinnerParty
from parties.views.base import FORM_ERRORS, PARTY_NOT_FOUND, say_outcome
from parties.views.pages import InviteView, PartyDetailView


class RSVPView(LoginRequiredMixin, View):
    """POST only: record the user's reply, then back to the party page."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = parse_invite_token(request.POST.get("invite"))
        form = RSVPForm(request.POST)
        if not form.is_valid():
            return self.show_again(form, pk=pk, token=token)
        try:
            # The permission check is the service's read of the party, under its
            # lock: a party this guest may not see is never loaded for them.
            outcome = services.rsvp_submit(
                party=DinnerParty(pk=pk),
                guest=request.user,
                status=form.cleaned_data["status"],
                plus_ones=form.cleaned_data["plus_ones"],
                note=form.cleaned_data["note"],
                plus_one_diets=form.cleaned_data["plus_one_diets"],
                plus_one_allergies=form.cleaned_data["plus_one_allergies"],
                invite_token=token,
            )
        except DinnerParty.DoesNotExist:
            raise Http404(PARTY_NOT_FOUND) from None
        except services.RsvpError as error:
            messages.error(request, str(error))
            back = self.back_url(pk, token, by_link=self.is_link_of(pk, token))
            return HttpResponseRedirect(back)
        party = outcome.rsvp.party
        self.say(outcome, party)
        by_link = bool(token) and token == party.invite_token
        # (Not redirect(): it would first try the path as a URL name.)
        return HttpResponseRedirect(self.back_url(pk, token, by_link=by_link))

    def show_again(self, form: RSVPForm, *, pk: int, token: str) -> HttpResponse:
        """The party page again, with the reply as typed and each error beside its
        field (404 if the viewer may not see the party)."""
        messages.error(self.request, FORM_ERRORS)
        if self.is_link_of(pk, token):
            page = InviteView(rsvp_form=form)
        else:
            page, token = PartyDetailView(rsvp_form=form), ""
        page.setup(self.request, pk=pk, token=token)
        page.object = page.get_object()
        response = page.render_to_response(page.get_context_data(object=page.object))
        response.status_code = 400
        return response

    @staticmethod
    def is_link_of(pk: int, token: str) -> bool:
        """Is `token` this party's invite link (so the guest goes back to it)?"""
        return bool(token) and DinnerParty.objects.filter(pk=pk, invite_token=token).exists()

    @staticmethod
    def back_url(pk: int, token: str, *, by_link: bool) -> str:
        if by_link:
            return reverse("parties:invite", args=[token])
        return reverse("parties:detail", args=[pk])

    def say(self, outcome: services.RsvpOutcome, party: DinnerParty) -> None:
        say_outcome(self.request, outcome, party)


class ComeWithFewerView(LoginRequiredMixin, View):
    """POST only: a waitlisted guest takes the seats free now, with fewer plus-ones
    (the one-tap offer on the party page), keeping the rest of their reply."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = parse_invite_token(request.POST.get("invite"))
        back = RSVPView.back_url(pk, token, by_link=RSVPView.is_link_of(pk, token))
        form = ComeWithFewerForm(request.POST)
        if not form.is_valid():
            error = next(iter(form.errors.get("plus_ones", [])), FORM_ERRORS)
            messages.error(request, error)
            return HttpResponseRedirect(back)
        try:
            outcome = services.rsvp_come_with_fewer(
                party=DinnerParty(pk=pk),
                guest=request.user,
                plus_ones=form.cleaned_data["plus_ones"],
                invite_token=token,
            )
        except DinnerParty.DoesNotExist:
            raise Http404(PARTY_NOT_FOUND) from None
        except services.RsvpError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(back)
        say_outcome(request, outcome, outcome.rsvp.party)
        return HttpResponseRedirect(back)
