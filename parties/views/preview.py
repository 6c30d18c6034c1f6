"""What a visitor who is not logged in sees of a party: its preview (behind the
invite link, or a public party's own page) with a reply form that needs no
password, the "check your email" page, and the page the emailed link opens
(parties/guest_replies.py)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from accounts import throttle
from parties import guest_replies, selectors, services
from parties.forms import GuestReplyForm
from parties.invites import parse_invite_token
from parties.models import DinnerParty
from parties.page_cache import cached_page
from parties.views.base import FORM_ERRORS, PARTY_NOT_FOUND, welcome_guest

OG_IMAGE = "img/og-invite.png"


def party_path(pk: int, invite_token: str) -> str:
    """A party's page as the visitor reached it: by its invite link, or its own."""
    if invite_token:
        return reverse("parties:invite", args=[invite_token])
    return reverse("parties:detail", args=[pk])


def preview_page(
    request: HttpRequest,
    access: dict,
    *,
    invite_token: str,
    form: GuestReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The party's preview for `access` (its `PARTY_ACCESS` row for the visitor).
    Every visitor sees the same page, so it is cached like the landing page, under
    the party's version; a reply form shown again with its errors is not."""

    def render(extra: dict) -> HttpResponse:
        party = selectors.party_for_page(access)
        if party is None:  # deleted between the two reads
            raise Http404(PARTY_NOT_FOUND)
        area = party.area or gettext("Address shared with guests at the table")
        context = {
            "party": party,
            "area": area,
            "courses": selectors.preview_courses(selectors.PartyExtras.of(party)),
            "form": form or GuestReplyForm(),
            "invite_token": invite_token,
            "page_url": f"{settings.SITE_URL}{request.path}",
            "og_image": f"{settings.SITE_URL}{static(OG_IMAGE)}",
            # (No "address shared with guests" in a chat's preview: the area, if any.)
            "og_description": " · ".join(
                filter(
                    None,
                    [
                        party.when,
                        party.area,
                        gettext("hosted by %(host)s") % {"host": party.host_name},
                    ],
                )
            ),
            **extra,
        }
        return TemplateResponse(request, "parties/preview.html", context, status=status)

    parts = None
    if form is None:
        parts = selectors.party_page_key(access, invite_token=invite_token, now=timezone.now())
    return cached_page(request, parts, render)


class GuestReplyView(View):
    """POST only: a visitor's reply from the preview. Valid, it is kept and a link
    goes to the address (or, for an account with a password, a note to log in):
    the visitor is told to check their email either way."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = parse_invite_token(request.POST.get("invite"))
        if request.user.is_authenticated:
            messages.info(request, _("You're logged in: reply here."))
            return HttpResponseRedirect(party_path(pk, token))
        access = selectors.party_access(request.user, pk=pk, invite_token=token, now=timezone.now())
        if access is None:
            raise Http404(PARTY_NOT_FOUND)
        if access["invite_token"] != token:
            token = ""  # a public party, reached without (its own) link
        form = GuestReplyForm(request.POST)
        if not form.is_valid():
            messages.error(request, FORM_ERRORS)
            return preview_page(request, access, invite_token=token, form=form, status=400)
        if access["has_started"]:
            messages.error(request, _("This party has already started, so replies are closed."))
            return HttpResponseRedirect(party_path(pk, token))
        if access["replies_closed"]:  # nothing is kept: its link could only be refused
            messages.error(request, gettext("Replies to this party are closed."))
            return HttpResponseRedirect(party_path(pk, token))
        address = form.cleaned_data["email"]
        counters = [
            (throttle.GUEST_REPLIES_PER_ADDRESS, address),
            (throttle.GUEST_REPLIES_PER_IP, throttle.client_ip(request)),
        ]
        wait = throttle.longest_wait(counters)
        if wait:
            form.add_error(None, throttle.too_many_attempts_message(wait))
            return preview_page(request, access, invite_token=token, form=form, status=429)
        for limit, name in counters:
            limit.hit(name)
        services.guest_reply_request(
            party=DinnerParty(pk=access["pk"]),
            invite_token=token,
            name=form.cleaned_data["name"],
            email=address,
            status=form.cleaned_data["status"],
            plus_ones=form.cleaned_data["plus_ones"],
            note=form.cleaned_data["note"],
        )
        sent = reverse("parties:guest_reply_sent", args=[pk])
        return HttpResponseRedirect(f"{sent}?{urlencode({'invite': token})}" if token else sent)


class GuestReplySentView(TemplateView):
    """ "Check your email": the same words whoever the address belongs to."""

    template_name = "parties/guest_reply_sent.html"

    def get_context_data(self, **kwargs) -> dict:
        token = parse_invite_token(self.request.GET.get("invite"))
        return {**super().get_context_data(**kwargs), "back": party_path(kwargs["pk"], token)}


class GuestReplyConfirmView(View):
    """The link from the email: a page with a button (the reply counts on the
    POST, so a mail scanner that opens links records nothing), or what is wrong
    with the link and how to get a new one. Never a 500; nothing recorded unless
    the reply counts."""

    template_name = "parties/guest_reply_confirm.html"

    def get(self, request: HttpRequest, pk: int, token: str) -> HttpResponse:
        return self.page(request, guest_replies.check_link(token, party_id=pk))

    def post(self, request: HttpRequest, pk: int, token: str) -> HttpResponse:
        # The signature here; the reply itself is read once, by the service, under its lock.
        link = guest_replies.read_link(token, party_id=pk)
        if link.problem is not None:
            return self.page(request, guest_replies.check_link(token, party_id=pk))
        try:
            result = services.guest_reply_confirm(
                reply_id=link.reply_id, party_id=pk, viewer=request.user
            )
        except services.GuestReplyError as error:
            detail = str(error) if error.problem == guest_replies.LinkProblem.CLOSED else ""
            return self.page(request, guest_replies.LinkCheck(error.reply, error.problem, detail))
        welcome_guest(request, result)
        return HttpResponseRedirect(party_path(pk, result.reply.invite_token))

    def page(self, request: HttpRequest, check: guest_replies.LinkCheck) -> HttpResponse:
        reply = check.reply
        back = party_path(reply.party_id, reply.invite_token) if reply else ""
        status = 200 if check.problem is None else 400
        context = {"check": check, "reply": reply, "back": back}
        return TemplateResponse(request, self.template_name, context, status=status)
