"""What the hosts run besides the menu: co-hosts, messages to guests and the
invite link."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from parties import services
from parties.forms import AnnouncementForm, CohostForm
from parties.models import DinnerParty
from parties.views.base import HostOnlyMixin, PartyActionView


class CohostAddView(PartyActionView):
    form_class = CohostForm
    heading = "Add a co-host"

    def parties(self):
        return DinnerParty.objects.deletable_by(self.request.user)  # the host decides

    def act(self, party: DinnerParty, form: CohostForm) -> str:
        services.cohost_add(party=party, user=form.user)
        return f"{form.user.display_name} is now co-hosting “{party.title}”."


class CohostRemoveView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
        party = get_object_or_404(DinnerParty.objects.deletable_by(request.user), pk=pk)
        cohost = get_object_or_404(party.cohosts.all(), pk=user_id)
        services.cohost_remove(party=party, user=cohost)
        messages.success(request, f"{cohost.display_name} is no longer co-hosting.")
        return redirect(party)


class AnnounceView(PartyActionView):
    form_class = AnnouncementForm
    heading = "Message your guests"

    def act(self, party: DinnerParty, form: AnnouncementForm) -> str:
        services.announce(
            party=party,
            author=self.request.user,
            audience=form.cleaned_data["audience"],
            text=form.cleaned_data["text"],
        )
        if not self.request.user.email_confirmed:
            return (
                "Your message is posted on the party page. It will be emailed once you "
                "confirm your address."
            )
        return "Your message is posted on the party page and on its way to your guests."


class RegenerateInviteView(HostOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        party = get_object_or_404(self.get_queryset(), pk=pk)
        services.regenerate_invite(party=party)
        messages.success(request, "A new invite link is ready. The old link no longer works.")
        return redirect(party)
