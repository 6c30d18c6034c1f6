"""Invitations by email: the hosts' paste of addresses and their reminder, and
the page each invitee's personal link opens (parties/invitations.py)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from parties import selectors, services
from parties.forms import InvitationForm, InvitationReplyForm
from parties.guest_replies import LinkProblem
from parties.invites import parse_invite_token
from parties.models import DinnerParty, Invitation
from parties.views.base import FORM_ERRORS, PartyActionView, welcome_guest

INVITATION_NOT_FOUND = _("This invitation link is not valid. Ask the host for a new one.")
INACTIVE_ACCOUNT = _(
    "The account for this email address has been closed, so it can't reply. Nothing was recorded."
)


class InvitationsView(PartyActionView):
    """POST: the hosts paste addresses. The good ones are invited at once; lines
    that are not an address come back in the form, each with its reason."""

    form_class = InvitationForm
    form_prefix = "invite"
    heading = _("Invite by email")

    def post(self, request: HttpRequest, pk: int, **kwargs) -> HttpResponse:
        party = get_object_or_404(self.parties().select_related("host"), pk=pk)
        form = InvitationForm(request.POST, prefix=self.form_prefix)
        if not form.is_valid():
            return self.show_again(party, form)
        pasted = form.pasted
        if pasted.valid:
            try:
                sent = services.invitations_send(
                    party=party, by=request.user, addresses=pasted.valid
                )
            except services.InvitationError as error:
                form.add_error("addresses", str(error))
                return self.show_again(party, form)
            self.say(sent, merged=pasted.merged)
        if not pasted.invalid:
            return HttpResponseRedirect(party.get_absolute_url())
        # What is left to fix, in the box, with why each line won't do.
        lines = "\n".join(line for line, _ in pasted.invalid)
        again = InvitationForm({f"{self.form_prefix}-addresses": lines}, prefix=self.form_prefix)
        again.is_valid()
        for line, reason in pasted.invalid:
            again.add_error("addresses", f"{line} — {reason}")
        return self.show_again(party, again)

    def show_again(self, party: DinnerParty, form: InvitationForm) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        context = {
            "party": party,
            "form": form,
            "heading": self.heading,
            "action": self.request.path,
        }
        return render(self.request, "parties/party_action_form.html", context, status=400)

    def say(self, sent: services.InvitationsSent, *, merged: int) -> None:
        count = len(sent.invited)
        if count and sent.held:
            messages.warning(
                self.request,
                ngettext(
                    "%(count)d invitation is ready. It will be emailed once you confirm your "
                    "email address (see the link we sent you).",
                    "%(count)d invitations are ready. They will be emailed once you confirm "
                    "your email address (see the link we sent you).",
                    count,
                )
                % {"count": count},
            )
        elif count:
            messages.success(
                self.request,
                ngettext(
                    "%(count)d invitation is on its way.",
                    "%(count)d invitations are on their way.",
                    count,
                )
                % {"count": count},
            )
        repeated = len(sent.already) + merged
        if repeated:
            messages.info(
                self.request,
                ngettext(
                    "%(count)d address was already on the list, so it was invited once.",
                    "%(count)d addresses were already on the list, so each was invited once.",
                    repeated,
                )
                % {"count": repeated},
            )


class RemindView(PartyActionView):
    """POST: email again the invitees who haven't answered (once a day per party)."""

    def post(self, request: HttpRequest, pk: int, **kwargs) -> HttpResponse:
        party = get_object_or_404(self.parties(), pk=pk)
        try:
            count = services.invitations_remind(party=party)
        except services.InvitationError as error:
            messages.error(request, str(error))
        else:
            if count:
                messages.success(
                    request,
                    ngettext(
                        "Reminded %(count)d invitee who hasn't answered.",
                        "Reminded %(count)d invitees who haven't answered.",
                        count,
                    )
                    % {"count": count},
                )
            else:
                messages.info(request, _("Everyone has answered: nobody to remind."))
        return HttpResponseRedirect(party.get_absolute_url())


class InvitationView(View):
    """The page a personal invitation's link opens: the party's preview (a
    private one too) with one-tap replies that need no password. The GET writes
    nothing: the mail scanners that open every link in an email (Safe Links,
    Proofpoint…) fetch it too. A browser that shows the page runs its script,
    which tells `InvitationOpenedView`; a reply marks it opened as well."""

    template_name = "parties/invitation.html"

    def invitation(self, token: str) -> Invitation:
        token = parse_invite_token(token)
        invitation = (
            Invitation.objects.select_related("party__host").filter(token=token).first()
            if token
            else None
        )
        if invitation is None or invitation.state == "held":
            raise Http404(INVITATION_NOT_FOUND)
        return invitation

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.page(request, self.invitation(token), InvitationReplyForm())

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self.invitation(token)
        form = InvitationReplyForm(request.POST)
        if not form.is_valid():
            messages.error(request, FORM_ERRORS)
            return self.page(request, invitation, form, status=400)
        try:
            result = services.invitation_reply(
                invitation=invitation,
                viewer=request.user,
                status=form.cleaned_data["status"],
                plus_ones=form.cleaned_data["plus_ones"],
                note=form.cleaned_data["note"],
            )
        except services.GuestReplyError as error:
            return self.refused(request, invitation, form, error)
        welcome_guest(request, result)
        return HttpResponseRedirect(reverse("parties:detail", args=[result.outcome.rsvp.party.pk]))

    def refused(
        self,
        request: HttpRequest,
        invitation: Invitation,
        form: InvitationReplyForm,
        error: services.GuestReplyError,
    ) -> HttpResponse:
        if error.problem == LinkProblem.MEMBER:
            messages.info(request, _("This address belongs to an account: log in to reply."))
            login_url = reverse("login")
            return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.path})}")
        if error.problem == LinkProblem.INACTIVE:
            messages.error(request, gettext(INACTIVE_ACCOUNT))
        elif error.problem == LinkProblem.OTHER_ACCOUNT:
            messages.error(
                request,
                _(
                    "This invitation is for another account. Log out first, or reply from the "
                    "party's page."
                ),
            )
        elif error.problem == LinkProblem.CLOSED:
            messages.error(request, str(error))
        else:
            raise Http404(INVITATION_NOT_FOUND)
        return self.page(request, invitation, form, status=400)

    def page(
        self,
        request: HttpRequest,
        invitation: Invitation,
        form: InvitationReplyForm,
        *,
        status: int = 200,
    ) -> HttpResponse:
        party = invitation.party
        context = {
            "invitation": invitation,
            "party": party,
            "area": party.area or gettext("Address shared with guests at the table"),
            "courses": selectors.preview_courses(selectors.PartyExtras.of(party)),
            "form": form,
        }
        return TemplateResponse(request, self.template_name, context, status=status)


class InvitationOpenedView(View):
    """POST only, from the invitation page's script (static/js/invitation-opened.js):
    a browser showed the page, so "invited" becomes "opened". A link scanner's GET
    of the page runs no script and marks nothing."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        services.invitation_opened(invitation=InvitationView().invitation(token))
        return HttpResponse(status=204)
