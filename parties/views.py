from datetime import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import (
    CreateView,
    DeleteView,
    DetailView,
    TemplateView,
    UpdateView,
)

from parties import calendar, selectors, services
from parties.cards import CARD_TTL, PageParties, cards_key, load_cards
from parties.forms import AnnouncementForm, CohostForm, DishForm, PartyForm, PotluckForm, RSVPForm
from parties.invites import parse_invite_token
from parties.models import RSVP, DinnerParty, Dish, RSVPStatus
from parties.page_cache import cached_page
from parties.pagination import LookaheadPage
from parties.queries import LISTING, PUBLIC_LISTING

FORM_ERRORS = "Please fix the errors below."
PARTY_NOT_FOUND = "Party not found."


LANDING_CARDS = 6


class HomeView(TemplateView):
    """The landing page: what DinnerParty is, and the next public parties."""

    template_name = "home.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        now, viewer = timezone.now(), request.user
        rows = PUBLIC_LISTING.rows(viewer=viewer, now=now, limit=LANDING_CARDS, offset=0)
        key = cards_key(rows, viewer, now)
        parties = PageParties([row["pk"] for row in rows], load_cards(viewer))

        def render(extra: dict) -> HttpResponse:
            context = self.get_context_data(parties=parties, cards_key=key, card_ttl=CARD_TTL)
            return self.render_to_response({**context, **extra})

        # Visitors who aren't logged in all see the same page: it is cached, keyed
        # by the cards it shows. A logged-in member's page is rendered for them.
        return cached_page(request, None if viewer.is_authenticated else (key,), render)


class PartyListView(LoginRequiredMixin, TemplateView):
    """Upcoming parties the user may see, 20 cards a page, soonest first. One
    lean query finds the page's parties (`LISTING`, paged by
    parties/pagination.py); they are loaded in full only when their cards are
    not cached (see parties/cards.py)."""

    template_name = "parties/dinnerparty_list.html"
    per_page = 20

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user, now = request.user, timezone.now()
        page = LookaheadPage.of_rows(
            lambda limit, offset, after: LISTING.rows(
                viewer=user, now=now, limit=limit, offset=offset, after=after
            ),
            per_page=self.per_page,
            page=request.GET.get("page"),
            after=request.GET.get("after"),
        )
        key = cards_key(page.object_list, user, now)
        context = self.get_context_data(
            parties=PageParties([row["pk"] for row in page.object_list], load_cards(user)),
            page_obj=page,
            is_paginated=page.has_other_pages(),
            cards_key=key,
            card_ttl=CARD_TTL,
        )
        # The whole page is cached under what it shows: the viewer (see
        # `cached_page`), the page's cards and where the pages go from here.
        return cached_page(
            request,
            selectors.list_page_key(page, key),
            lambda extra: self.render_to_response({**context, **extra}),
        )


class PartyDetailView(LoginRequiredMixin, DetailView):
    """A party's page: details, guest list, and the RSVP form or the host's tools."""

    template_name = "parties/dinnerparty_detail.html"
    context_object_name = "party"
    rsvp_form: RSVPForm | None = None  # a reply with errors, shown again by RSVPView
    not_found = PARTY_NOT_FOUND

    def invite_token(self) -> str:
        return ""

    @cached_property
    def now(self) -> datetime:
        return timezone.now()

    @cached_property
    def access(self) -> dict:
        """The viewer's standing with the party, and its page's version (404 if
        they may not see it): the permission check, in SQL."""
        token = self.invite_token()
        access = selectors.party_access(
            self.request.user,
            pk=0 if token else self.kwargs["pk"],
            invite_token=token,
            now=self.now,
        )
        if access is None:
            raise Http404(self.not_found)
        return access

    def get_object(self, queryset=None) -> DinnerParty:
        party = selectors.party_for_page(self.access)
        if party is None:  # deleted between the two reads
            raise Http404(self.not_found)
        return party

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """A guest's page comes from the cache when it can (see `page_parts`,
        decided from the access check alone): the party is loaded and the
        context built only when the page is rendered."""

        def render(extra: dict) -> HttpResponse:
            self.object = self.get_object()
            return self.render_to_response(self.get_context_data(object=self.object, **extra))

        return cached_page(request, self.page_parts(), render)

    def page_parts(self) -> tuple | None:
        """What a guest's party page shows, for its cache key. The hosts' page
        (guests' diets, forms for the menu) and a reply with errors are not cached."""
        if self.can_manage or self.rsvp_form is not None:
            return None
        return selectors.party_page_key(self.access, invite_token=self.invite_token(), now=self.now)

    @cached_property
    def my_rsvp(self) -> RSVP | None:
        return selectors.viewer_reply(self.object, self.request.user)

    @property
    def is_host(self) -> bool:
        return self.access["host_id"] == self.request.user.pk or self.request.user.is_superuser

    @property
    def can_manage(self) -> bool:
        """The host, a superuser or a co-host: they get the hosts' tools."""
        return self.is_host or bool(self.access["viewer_cohosts"])

    @property
    def replies_open(self) -> bool:
        """The viewer gets the reply form when the rules let them reply at all."""
        return services.rsvp_refusal(party=self.object, guest=self.request.user) is None

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        party: DinnerParty = self.object
        user, my_rsvp = self.request.user, self.my_rsvp
        my_status = my_rsvp.status if my_rsvp else None
        is_host, can_manage = self.is_host, self.can_manage
        extras, guests = selectors.PartyExtras.of(party), selectors.GuestList(party)
        menu = selectors.party_menu(
            party, extras, guests, viewer=user, rsvp=my_rsvp, can_manage=can_manage
        )
        context.update(
            menu=menu.courses,
            my_dishes=menu.my_dishes,
            # The guest list and the reply form are cached under what they show.
            guests=guests,
            guests_key=selectors.guest_list_key(party, is_host=is_host),
            rsvp_form_key=selectors.reply_form_key(party, user, my_rsvp),
            card_ttl=CARD_TTL,
            is_host=is_host,
            can_manage=can_manage,
            shown_venue=party.venue_for(user=user, status=my_status, cohost=can_manage),
            announcements=selectors.announcements_for(
                extras.announcements, status=my_status, can_manage=can_manage
            ),
            my_rsvp=my_rsvp,
            invite_token=self.invite_token(),
        )
        if menu.claimable:
            claim_form = DishForm(prefix="claim")
            claim_form.fields["course"].choices = menu.claimable
            context["claim_form"] = claim_form
        if my_rsvp and my_rsvp.status == RSVPStatus.WAITLISTED:
            context["my_waitlist_position"] = services.waitlist_position(my_rsvp)
        if self.replies_open:
            # A waitlisted guest's standing request is "going".
            waiting = my_rsvp is None or my_rsvp.status == RSVPStatus.WAITLISTED
            initial = {"status": RSVPStatus.GOING} if waiting else {}
            context["rsvp_form"] = self.rsvp_form or RSVPForm(instance=my_rsvp, initial=initial)
        if can_manage:
            context.update(
                coverage=menu.coverage,
                cohosts=list(party.cohosts.all()),
                invite_url=self.request.build_absolute_uri(
                    reverse("parties:invite", args=[party.invite_token])
                ),
                summary=selectors.hosts_summary(party, guests),
                dish_form=DishForm(prefix="dish"),
                potluck_form=PotluckForm(counts=selectors.slot_counts(party, extras.slots)),
                cohost_form=CohostForm(),
                announcement_form=AnnouncementForm(),
            )
        return context


class InviteView(PartyDetailView):
    """A private party opened through its invite link."""

    not_found = "This invite link is not valid any more. Ask the host for a new one."

    def invite_token(self) -> str:
        token = parse_invite_token(self.kwargs["token"])
        if not token:
            raise Http404(self.not_found)
        return token


class HostOnlyMixin(LoginRequiredMixin):
    """Only the hosts (host, co-hosts, superusers) find the party at all: others get a 404."""

    def get_queryset(self):
        return DinnerParty.objects.editable_by(self.request.user).select_related("host")


class PartyCreateView(LoginRequiredMixin, CreateView):
    form_class = PartyForm
    template_name = "parties/dinnerparty_form.html"

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "host": self.request.user}

    def form_valid(self, form: PartyForm) -> HttpResponse:
        form.instance.host = self.request.user
        response = super().form_valid(form)
        messages.success(
            self.request,
            f"Your party “{self.object.title}” on {self.object.when} is on! "
            "Share it with your guests.",
        )
        return response

    def form_invalid(self, form: PartyForm) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class PartyUpdateView(HostOnlyMixin, UpdateView):
    form_class = PartyForm
    template_name = "parties/dinnerparty_form.html"

    def form_valid(self, form: PartyForm) -> HttpResponse:
        try:
            promoted = services.party_update(party=self.object, changes=form.model_changes())
        except services.SeatsBelowTaken as error:
            form.add_error("seats", str(error))
            return self.form_invalid(form)
        text = f"“{self.object.title}” has been updated."
        if promoted:
            count = len(promoted)
            text += (
                f" {count} guest{'s' if count != 1 else ''} moved from the waitlist to the table."
            )
        messages.success(self.request, text)
        return HttpResponseRedirect(self.object.get_absolute_url())

    def form_invalid(self, form: PartyForm) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class PartyDeleteView(HostOnlyMixin, DeleteView):
    template_name = "parties/dinnerparty_confirm_delete.html"
    success_url = reverse_lazy("parties:list")

    def get_queryset(self):
        # Co-hosts run the party with the host but cannot cancel it.
        return DinnerParty.objects.deletable_by(self.request.user).select_related("host")

    def form_valid(self, form) -> HttpResponse:
        services.party_delete(party=self.object)
        messages.success(
            self.request,
            f"“{self.object.title}” has been cancelled and deleted. Your guests will be told.",
        )
        return HttpResponseRedirect(self.get_success_url())


class RegenerateInviteView(HostOnlyMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        party = get_object_or_404(self.get_queryset(), pk=pk)
        services.regenerate_invite(party=party)
        messages.success(request, "A new invite link is ready. The old link no longer works.")
        return redirect(party)


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
        status = outcome.status
        if status == RSVPStatus.GOING:
            extra = outcome.rsvp.plus_ones
            company = f" with {extra} plus-one{'s' if extra != 1 else ''}" if extra else ""
            messages.success(self.request, f"You're going to {party.describe()}{company}!")
        elif status == RSVPStatus.WAITLISTED:
            messages.warning(
                self.request,
                f"The table is full — you're #{outcome.waitlist_position} on the waitlist for "
                f"{party.describe()}. We'll move you to the table if a seat frees up.",
            )
        elif status == RSVPStatus.MAYBE:
            messages.info(self.request, f"Noted: you might come to {party.describe()}.")
        else:
            messages.info(
                self.request, f"Sorry you can't make it to {party.describe()}. Your reply is saved."
            )
        if outcome.promoted:
            count = len(outcome.promoted)
            messages.info(
                self.request,
                f"{count} guest{'s' if count != 1 else ''} moved up from the waitlist.",
            )


class CalendarView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        # A private party's invite page links here with its token.
        token = parse_invite_token(request.GET.get("invite"))
        party = get_object_or_404(
            DinnerParty.objects.visible_to(request.user, invite_token=token)
            .with_viewer(request.user)
            .select_related("host"),
            pk=pk,
        )
        if token and token == party.invite_token:
            path = reverse("parties:invite", args=[token])
        else:
            path = party.get_absolute_url()
        body = calendar.party_to_ics(
            party,
            url=request.build_absolute_uri(path),
            location=party.venue_for_viewer(request.user),
        )
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dinnerparty-{party.pk}.ics"'
        return response


# --- Menu, potluck, co-hosts and messages ------------------------------------------


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


class DishAddView(PartyActionView):
    form_class = DishForm
    form_prefix = "dish"
    heading = "Add a dish to the menu"

    def act(self, party: DinnerParty, form: DishForm) -> str:
        dish = services.dish_add(
            party=party,
            cook=self.request.user,
            course=form.cleaned_data["course"],
            name=form.cleaned_data["name"],
            **form.tags(),
        )
        return f"“{dish.name}” is on the menu."


class PotluckView(PartyActionView):
    heading = "Potluck: dishes wanted"

    def get_form(self, party: DinnerParty) -> PotluckForm:
        return PotluckForm(self.request.POST, counts={})

    def act(self, party: DinnerParty, form: PotluckForm) -> str:
        services.potluck_set_slots(party=party, wanted=form.cleaned_data)
        return "The potluck is open: guests who are going can now pick a course to bring."


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
        return "Your message is posted on the party page and on its way to your guests."


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


class SlotClaimView(PartyActionView):
    """A guest who is going brings a dish for a free slot."""

    form_class = DishForm
    form_prefix = "claim"
    heading = "Bring a dish"

    def parties(self):
        token = parse_invite_token(self.request.POST.get("invite"))
        return DinnerParty.objects.visible_to(self.request.user, invite_token=token)

    def act(self, party: DinnerParty, form: DishForm) -> str:
        dish = services.slot_claim(
            party=party,
            guest=self.request.user,
            course=form.cleaned_data["course"],
            name=form.cleaned_data["name"],
            **form.tags(),
        )
        return f"Thank you! You're bringing “{dish.name}” ({dish.get_course_display().lower()})."


class DishMixin(LoginRequiredMixin):
    """A dish its cook may change; the party's hosts may also take it off the menu."""

    def dishes(self, *, include_managed: bool):
        user = self.request.user
        mine = Q(added_by=user)
        if include_managed:
            mine |= Q(party__in=DinnerParty.objects.editable_by(user))
        return Dish.objects.filter(mine).select_related("party__host")


class DishEditView(DishMixin, UpdateView):
    form_class = DishForm
    template_name = "parties/party_action_form.html"
    pk_url_kwarg = "dish_id"

    def get_queryset(self):
        return self.dishes(include_managed=False).filter(party_id=self.kwargs["pk"])

    def get_form(self, form_class=None) -> DishForm:
        form = super().get_form(form_class)
        if self.object.slot_id:
            # A claimed slot keeps its course; release it to pick another.
            form.fields["course"].disabled = True
        return form

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(
            party=self.object.party, heading=f"Change “{self.object.name}”", **kwargs
        )

    def form_valid(self, form: DishForm) -> HttpResponse:
        services.dish_update(
            dish=self.object,
            name=form.cleaned_data["name"],
            course=form.cleaned_data["course"],
            **form.tags(),
        )
        messages.success(self.request, f"“{self.object.name}” is updated.")
        return redirect(self.object.party)

    def form_invalid(self, form: DishForm) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class DishRemoveView(DishMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, dish_id: int) -> HttpResponse:
        dish = get_object_or_404(self.dishes(include_managed=True).filter(party_id=pk), pk=dish_id)
        services.dish_remove(dish=dish)
        if dish.slot_id and dish.added_by_id == request.user.pk:
            messages.success(request, f"You're no longer bringing “{dish.name}”.")
        else:
            messages.success(request, f"“{dish.name}” is off the menu.")
        return redirect(dish.party)
