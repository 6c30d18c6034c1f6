"""What the hosts run besides the menu: co-hosts, messages to guests, the
invite link, and the guest list to take away (a CSV file and a printable sheet)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView

from parties import guest_list, services
from parties.forms import AnnouncementForm, CohostForm
from parties.models import DinnerParty, Dish
from parties.views.base import HostOnlyMixin, PartyActionView


class CohostAddView(PartyActionView):
    form_class = CohostForm
    heading = _("Add a co-host")

    def parties(self):
        return DinnerParty.objects.deletable_by(self.request.user)  # the host decides

    def act(self, party: DinnerParty, form: CohostForm) -> str:
        services.cohost_add(party=party, user=form.user)
        return gettext("%(name)s is now co-hosting “%(title)s”.") % {
            "name": form.user.display_name,
            "title": party.title,
        }


class CohostRemoveView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
        party = get_object_or_404(DinnerParty.objects.deletable_by(request.user), pk=pk)
        cohost = get_object_or_404(party.cohosts.all(), pk=user_id)
        services.cohost_remove(party=party, user=cohost)
        messages.success(
            request, gettext("%(name)s is no longer co-hosting.") % {"name": cohost.display_name}
        )
        return redirect(party)


class AnnounceView(PartyActionView):
    form_class = AnnouncementForm
    heading = _("Message your guests")

    def act(self, party: DinnerParty, form: AnnouncementForm) -> str:
        services.announce(
            party=party,
            author=self.request.user,
            audience=form.cleaned_data["audience"],
            text=form.cleaned_data["text"],
        )
        if not self.request.user.email_confirmed:
            return gettext(
                "Your message is posted on the party page. It will be emailed once you "
                "confirm your address."
            )
        return gettext("Your message is posted on the party page and on its way to your guests.")


class RegenerateInviteView(HostOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        party = get_object_or_404(self.get_queryset(), pk=pk)
        services.regenerate_invite(party=party)
        messages.success(request, _("A new invite link is ready. The old link no longer works."))
        return redirect(party)


class GuestListMixin(HostOnlyMixin):
    """The party (only its host, co-hosts or a superuser find it: else 404) with
    its replies and dishes: three queries, however many guests."""

    def guest_list(self, party: DinnerParty) -> list[guest_list.GuestLine]:
        self.dishes = list(
            Dish.objects.filter(party=party).select_related("added_by").order_by("created_at")
        )
        return guest_list.guest_lines(guest_list.ordered_replies(party.rsvps.all()), self.dishes)


class GuestListCSVView(GuestListMixin, View):
    """The guest list as a CSV file: names, replies, plus-ones, diets and
    allergies, what each brings and their notes."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        party = get_object_or_404(self.get_queryset(), pk=pk)
        body = guest_list.guest_list_csv(self.guest_list(party))
        # With a byte-order mark, spreadsheets read the names' accents right.
        response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="guest-list-{party.pk}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response


class GuestSheetView(GuestListMixin, DetailView):
    """A one-page sheet to print: who is coming, what each can't eat, and the
    dishes by course."""

    template_name = "parties/dinnerparty_sheet.html"
    context_object_name = "party"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        party = self.object
        lines = self.guest_list(party)
        going = [line for line in lines if line.rsvp.status == "going"]
        context.update(
            lines=lines,
            going=going,
            people=sum(line.rsvp.seats_needed for line in going),
            needs=[line for line in lines if line.has_needs],
            courses=guest_list.dishes_by_course(party, self.dishes),
            venue=party.venue,
        )
        return context
