from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.views import View
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from parties import calendar, services
from parties.forms import PartyForm, RSVPForm
from parties.models import RSVP, DinnerParty, RSVPStatus

FORM_ERRORS = "Please fix the errors below."
PARTY_NOT_FOUND = "Party not found."


class PartyListView(LoginRequiredMixin, ListView):
    template_name = "parties/dinnerparty_list.html"
    context_object_name = "parties"
    paginate_by = 20

    def get_queryset(self):
        return (
            DinnerParty.objects.upcoming()
            .visible_to(self.request.user)
            .select_related("host")
            .order_by("starts_at", "pk")
        )


class PartyDetailView(LoginRequiredMixin, DetailView):
    """A party's page: details, guest list, and the RSVP form or the host's tools."""

    template_name = "parties/dinnerparty_detail.html"
    context_object_name = "party"

    def invite_token(self) -> str:
        return ""

    def get_queryset(self):
        rsvps = RSVP.objects.select_related("guest").order_by("created_at", "pk")
        return (
            DinnerParty.objects.visible_to(self.request.user, invite_token=self.invite_token())
            .select_related("host")
            .prefetch_related(Prefetch("rsvps", queryset=rsvps))
        )

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        party: DinnerParty = self.object
        user = self.request.user
        rsvps = list(party.rsvps.all())
        by_status = {status: [] for status in RSVPStatus.values}
        for rsvp in rsvps:
            by_status[rsvp.status].append(rsvp)
        by_status[RSVPStatus.WAITLISTED].sort(key=lambda r: (r.waitlisted_at, r.pk))
        my_rsvp = next((r for r in rsvps if r.guest_id == user.pk), None)
        is_host = party.host_id == user.pk or user.is_superuser
        context.update(
            is_host=is_host,
            going=by_status[RSVPStatus.GOING],
            maybe=by_status[RSVPStatus.MAYBE],
            waitlisted=by_status[RSVPStatus.WAITLISTED],
            declined=by_status[RSVPStatus.DECLINED],
            my_rsvp=my_rsvp,
            invite_token=self.invite_token(),
        )
        if my_rsvp is not None and my_rsvp.status == RSVPStatus.WAITLISTED:
            context["my_waitlist_position"] = by_status[RSVPStatus.WAITLISTED].index(my_rsvp) + 1
        if party.host_id != user.pk and not party.has_started:
            # A waitlisted guest's standing request is "going".
            waiting = my_rsvp is None or my_rsvp.status == RSVPStatus.WAITLISTED
            initial = {"status": RSVPStatus.GOING} if waiting else {}
            context["rsvp_form"] = RSVPForm(instance=my_rsvp, initial=initial)
        if is_host:
            context["invite_url"] = self.request.build_absolute_uri(
                reverse("parties:invite", args=[party.invite_token])
            )
            context["summary"] = {
                "head_count": 1 + party.seats_taken,
                "dietary_notes": [
                    r for r in by_status[RSVPStatus.GOING] if r.guest.dietary_notes.strip()
                ],
                "bringing": [r for r in rsvps if r.note.strip() and r.status != "declined"],
            }
        return context


class InviteView(PartyDetailView):
    """A private party opened through its invite link."""

    def invite_token(self) -> str:
        return self.kwargs["token"]

    def get_object(self, queryset=None) -> DinnerParty:
        queryset = self.get_queryset() if queryset is None else queryset
        party = queryset.filter(invite_token=self.invite_token()).first()
        if party is None:
            raise Http404("This invite link is not valid any more. Ask the host for a new one.")
        return party


class HostOnlyMixin(LoginRequiredMixin):
    """Only the host (or a superuser) finds the party at all: others get a 404."""

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
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            promoted = services.party_update(party=self.object, changes=changes)
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
        token = request.POST.get("invite", "")[:64]
        party = (
            DinnerParty.objects.visible_to(request.user, invite_token=token)
            .select_related("host")
            .filter(pk=pk)
            .first()
        )
        if party is None:
            raise Http404(PARTY_NOT_FOUND)
        back = self.back_url(party, token)
        form = RSVPForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, errors[0])
            return redirect(back)
        try:
            outcome = services.rsvp_submit(
                party=party,
                guest=request.user,
                status=form.cleaned_data["status"],
                plus_ones=form.cleaned_data["plus_ones"],
                note=form.cleaned_data["note"],
            )
        except services.RsvpError as error:
            messages.error(request, str(error))
            return redirect(back)
        self.say(outcome, party)
        return redirect(back)

    def back_url(self, party: DinnerParty, token: str) -> str:
        if token and token == party.invite_token:
            return reverse("parties:invite", args=[token])
        return party.get_absolute_url()

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
        token = request.GET.get("invite", "")[:64]
        party = get_object_or_404(
            DinnerParty.objects.visible_to(request.user, invite_token=token).select_related("host"),
            pk=pk,
        )
        if token and token == party.invite_token:
            path = reverse("parties:invite", args=[token])
        else:
            path = party.get_absolute_url()
        body = calendar.party_to_ics(party, url=request.build_absolute_uri(path))
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="dinnerparty-{party.pk}.ics"'
        return response
