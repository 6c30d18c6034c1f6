"""The pages about parties themselves: the landing page, the list, a party's page
(by id or by its invite link), creating, editing and deleting one, and its
calendar file."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, TemplateView, UpdateView

from parties import calendar, selectors, services
from parties.cards import CARD_TTL, PageParties, cards_key, load_cards
from parties.forms import (
    AnnouncementForm,
    CohostForm,
    DishForm,
    InvitationForm,
    PartyForm,
    PotluckForm,
    RSVPForm,
)
from parties.invites import parse_invite_token
from parties.models import RSVP, DinnerParty, RSVPStatus
from parties.page_cache import cached_page
from parties.pagination import LookaheadPage
from parties.queries import LISTING, PUBLIC_LISTING
from parties.views.base import FORM_ERRORS, PARTY_NOT_FOUND, HostOnlyMixin
from parties.views.preview import preview_page

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
        pending = selectors.pending_invitations(user, now)
        context = self.get_context_data(
            pending_invitations=pending,
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
            (*selectors.list_page_key(page, key), tuple(str(p) for p in pending)),
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

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.visitor_page(request)
        return super().dispatch(request, *args, **kwargs)

    def visitor_page(self, request: HttpRequest) -> HttpResponse:
        """Someone not logged in: the party's preview when they may see it (a
        public party, or any party by its invite link); otherwise the login wall,
        or a 404 for an invite link that isn't (or is no longer) one."""
        token = self.invite_token()
        access = selectors.party_access(
            request.user, pk=0 if token else self.kwargs["pk"], invite_token=token, now=self.now
        )
        if access is None:
            if token:
                raise Http404(self.not_found)
            return self.handle_no_permission()
        return preview_page(request, access, invite_token=token)

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
        refusal = services.rsvp_refusal(
            party=self.object, guest=self.request.user, rsvp=self.my_rsvp
        )
        return refusal is None

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
            shows_table_note=party.sees_address(user=user, status=my_status, cohost=can_manage),
            your_time=party.time_in_zone(user.timezone) if user.is_authenticated else "",
            announcements=selectors.announcements_for(
                extras.announcements, status=my_status, can_manage=can_manage
            ),
            my_rsvp=my_rsvp,
            invite_token=self.invite_token(),
            replies_closed=party.replies_closed,
        )
        if menu.claimable:
            claim_form = DishForm(prefix="claim")
            claim_form.fields["course"].choices = menu.claimable
            context["claim_form"] = claim_form
        if my_rsvp and my_rsvp.status == RSVPStatus.WAITLISTED:
            context["my_waitlist_position"] = services.waitlist_position(my_rsvp)
            context["seat_offer"] = selectors.seat_offer(party, my_rsvp)
        if self.replies_open:
            # A waitlisted guest's standing request is "going"; a first reply
            # starts with nothing chosen.
            waiting = my_rsvp is not None and my_rsvp.status == RSVPStatus.WAITLISTED
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
            invitations = selectors.invitations_for(party)
            context.update(
                invitations=invitations,
                may_remind=selectors.may_remind(invitations, self.now),
                invitation_form=InvitationForm(prefix="invite"),
            )
        return context


class InviteView(PartyDetailView):
    """A private party opened through its invite link."""

    not_found = _("This invite link is not valid any more. Ask the host for a new one.")

    def invite_token(self) -> str:
        token = parse_invite_token(self.kwargs["token"])
        if not token:
            raise Http404(self.not_found)
        return token


class PartyCreateView(LoginRequiredMixin, CreateView):
    form_class = PartyForm
    template_name = "parties/dinnerparty_form.html"

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "host": self.request.user}

    def form_valid(self, form: PartyForm) -> HttpResponse:
        form.instance.host = self.request.user
        self.object = services.party_create(party=form.instance)
        response = HttpResponseRedirect(self.get_success_url())
        messages.success(
            self.request,
            gettext("Your party “%(title)s” on %(when)s is on! Share it with your guests.")
            % {"title": self.object.title, "when": self.object.when},
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
        text = gettext("“%(title)s” has been updated.") % {"title": self.object.title}
        if promoted:
            count = len(promoted)
            text += " " + ngettext(
                "%(count)d guest moved from the waitlist to the table.",
                "%(count)d guests moved from the waitlist to the table.",
                count,
            ) % {"count": count}
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
            gettext("“%(title)s” has been cancelled and deleted. Your guests will be told.")
            % {"title": self.object.title},
        )
        return HttpResponseRedirect(self.get_success_url())


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
