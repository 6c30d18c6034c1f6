"""Confirmed email addresses.

Sign-up, and each new address asked for on the profile, sends a link to the
address: signed, good for LINK_VALID_FOR and once only. Until an account's
address is confirmed the site emails it nothing but that link
(`parties.notifications.address_of`) and holds the messages the user writes to
guests; confirming sends them. A new address stays pending (`User.pending_email`)
and the account keeps its old one until the link is opened. An address left
unconfirmed for longer than `UNCONFIRMED_EMAIL_KEPT_FOR` is free for someone else
to sign up with: the new account takes it, and the old one is left without an
address (its owner still logs in with their username and can add one).

A top-layer module, like accounts/views.py: it reads `parties` for the emails and
the held messages.
"""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from accounts import throttle
from accounts.models import (
    UNCONFIRMED_EMAIL_KEPT_FOR,
    User,
    accounts_with_address,
    unconfirmed_too_long,
)
from parties import notifications, services

LINK_VALID_FOR = timedelta(hours=24)
SALT = "accounts.verification"


# --- Links ----------------------------------------------------------------------------


def _fingerprint(user: User) -> str:
    """The state a link is good for: the address waiting for confirmation, the
    account's address, whether it is confirmed, and the password. Opening the link
    changes it, and so does asking for another address or cancelling the change, so
    a link works once and only for the address it was sent to; a new password (the
    owner taking their account back) kills a change someone else asked for."""
    state = "|".join(
        (
            str(user.pk),
            user.email_to_confirm.lower(),
            user.email.lower(),
            user.email_confirmed_at.isoformat() if user.email_confirmed_at else "",
            user.password,
        )
    )
    return salted_hmac(SALT, state, algorithm="sha256").hexdigest()[:32]


def _address_key(address: str) -> str:
    """Which address a link was for, without saying it (the token is readable)."""
    return salted_hmac(f"{SALT}.address", address.lower(), algorithm="sha256").hexdigest()[:16]


def link_token(user: User) -> str:
    return signing.dumps(
        {"u": user.pk, "f": _fingerprint(user), "a": _address_key(user.email_to_confirm)},
        salt=SALT,
    )


class LinkProblem(StrEnum):
    INVALID = "invalid"  # not one of ours: tampered with, cut short, or the account is gone
    EXPIRED = "expired"
    CONFIRMED = "confirmed"  # used: the address it was for is the account's, confirmed
    REPLACED = "replaced"  # the account has moved on: another address, a new password…
    OTHER_ACCOUNT = "other_account"  # the viewer is logged in to another account
    TAKEN = "taken"  # the new address went to someone else before it was confirmed


@dataclass(frozen=True)
class LinkCheck:
    user: User | None = None
    problem: LinkProblem | None = None


def check_link(token: str, *, viewer, lock: bool = False) -> LinkCheck:
    """What the link with `token` confirms, for `viewer` (the request's user), or
    why it won't do. `lock`: the account's row, locked for the confirmation."""
    try:
        data = signing.loads(token, salt=SALT, max_age=LINK_VALID_FOR)
        pk, fingerprint, address_key = int(data["u"]), str(data["f"]), str(data["a"])
    except signing.SignatureExpired:
        return LinkCheck(problem=LinkProblem.EXPIRED)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return LinkCheck(problem=LinkProblem.INVALID)
    if viewer.is_authenticated and viewer.pk != pk:
        return LinkCheck(problem=LinkProblem.OTHER_ACCOUNT)
    accounts = User.objects.filter(pk=pk)
    user = (accounts.select_for_update() if lock else accounts).first()
    if user is None:
        return LinkCheck(problem=LinkProblem.INVALID)
    if user.email_to_confirm and constant_time_compare(fingerprint, _fingerprint(user)):
        return LinkCheck(user)
    if user.email_confirmed and constant_time_compare(address_key, _address_key(user.email)):
        return LinkCheck(user, LinkProblem.CONFIRMED)  # used: the address it was for is
    return LinkCheck(user, LinkProblem.REPLACED)


# --- Releasing, confirming, sending ------------------------------------------------------


def release_stale_addresses(email: str | None = None) -> int:
    """Take the addresses left unconfirmed for too long (or only `email`, in any
    letter case) from their accounts, so someone else may sign up with them.
    The accounts stay, without an address; returns how many were released."""
    if email is not None:
        stale = accounts_with_address(email).filter(unconfirmed_too_long())
    else:
        stale = User.objects.filter(unconfirmed_too_long()).exclude(email="")
    return stale.update(email="")


def confirm(user: User) -> str | None:
    """Confirm the address waiting on `user` (its row locked by the caller) and
    send the messages held for it. None when that address, a new one, belongs to
    another account by now (the request is dropped; the account keeps its own)."""
    address = user.email_to_confirm
    newly_confirmed = not user.email_confirmed
    if address.lower() != user.email.lower():
        release_stale_addresses(address)
        try:
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(email=address)
        except IntegrityError:  # the unique-email constraint
            User.objects.filter(pk=user.pk).update(pending_email="")
            return None
    User.objects.filter(pk=user.pk).update(
        email=address, pending_email="", email_confirmed_at=timezone.now()
    )
    if newly_confirmed:
        services.send_held_announcements(author=user)
    return address


def send_link(user: User) -> int:
    """Email the link for the address waiting on `user` (after the commit). Every
    link counts against the account's hourly limit; past it nothing is sent and
    the seconds to wait are returned (else 0)."""
    account = throttle.account_key(user.pk)
    wait = throttle.CONFIRMATIONS_PER_ACCOUNT.retry_after(account)
    if wait:
        return wait
    throttle.CONFIRMATIONS_PER_ACCOUNT.hit(account)
    notifications.enqueue(send_confirmation_email, user.pk)
    return 0


def link_sent_message(address: str) -> str:
    return gettext(
        "We've sent a link to %(address)s: open it to confirm your address (it works for 24 hours)."
    ) % {"address": address}


def email_change_requested(*, user: User, old_address: str) -> None:
    """The profile stored a new address as pending: send it its link, and warn the
    old address, if it is confirmed (the profile form checked the limit)."""
    send_link(user)
    if user.email_confirmed and old_address:
        notifications.enqueue(
            send_email_change_notice,
            old_address,
            user.username,
            user.pending_email,
            language=notifications.language_of(user),
        )


def hold_new_address(user: User, *, old_address: str) -> bool:
    """Before a profile form saves `user`: a different address (not merely another
    letter case) becomes pending, and the account keeps `old_address` until the
    new one is confirmed. True when there is a new one."""
    if user.email.lower() == old_address.lower():
        return False
    user.pending_email, user.email = user.email, old_address
    return True


@task
def send_confirmation_email(user_id: int) -> None:
    """The link, to the address waiting for it (built now, for the account as it
    is now: the task's arguments hold no token)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email_to_confirm:
        return
    with notifications.speaking(notifications.language_of(user)):
        _send_confirmation_email(user)


def _send_confirmation_email(user: User) -> None:
    notifications.send(
        to=[user.email_to_confirm],
        subject=gettext("Confirm your email address for DinnerParty"),
        template="email_confirm",
        context={
            "name": notifications.greeting_name(user),
            "username": user.username,
            "address": user.email_to_confirm,
            "new_address": bool(user.pending_email),
            "link": notifications.site_url(reverse("email_confirm", args=[link_token(user)])),
            "kept_for_days": UNCONFIRMED_EMAIL_KEPT_FOR.days,
        },
    )


@task
def send_email_change_notice(
    old_address: str, username: str, new_address: str, *, language: str = ""
) -> None:
    """To the old address: in the account's language (the request's, passed in)."""
    with notifications.speaking(language):
        notifications.send(
            to=[old_address],
            subject=gettext("Your DinnerParty email address is being changed"),
            template="email_change_notice",
            context={
                "username": username,
                "new_address": new_address,
                "reset_url": notifications.site_url(reverse("password_reset")),
            },
        )


# --- Views ---------------------------------------------------------------------------


class EmailConfirmView(View):
    """The link from the email: a page with a button (confirming is a POST, so a
    mail scanner that opens links confirms nothing), or what is wrong with the
    link, with a way to get a new one."""

    template_name = "accounts/email_confirm.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.page(request, check_link(token, viewer=request.user))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        with transaction.atomic():
            check = check_link(token, viewer=request.user, lock=True)
            if check.problem is None:
                address = confirm(check.user)
                if address is None:
                    check = LinkCheck(check.user, LinkProblem.TAKEN)
        if check.problem is not None:
            return self.page(request, check)
        messages.success(
            request, gettext("Thanks! %(address)s is confirmed.") % {"address": address}
        )
        if request.user.is_authenticated:
            return redirect("profile")
        messages.info(request, _("Log in to carry on."))
        return redirect("login")

    def page(self, request: HttpRequest, check: LinkCheck) -> HttpResponse:
        address = check.user.email_to_confirm if check.user else ""
        return render(request, self.template_name, {"check": check, "address": address})


class ResendConfirmationView(LoginRequiredMixin, View):
    """A new link for the logged-in user's address waiting for confirmation."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.email_to_confirm:
            messages.info(request, _("Your email address is already confirmed."))
            return self.back(request)
        wait = send_link(user)
        if wait:
            message = throttle.too_many_attempts_message(wait)
            messages.error(request, message)
            return render(
                request, EmailConfirmView.template_name, {"throttled": message}, status=429
            )
        messages.success(request, link_sent_message(user.email_to_confirm))
        return self.back(request)

    def back(self, request: HttpRequest) -> HttpResponse:
        """To the page the button was on (a same-site path), else the profile."""
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(target)  # a path, never a view's name (redirect())
        return redirect("profile")


class EmailChangeCancelView(LoginRequiredMixin, View):
    """Drop the new address waiting for confirmation; the account keeps its own."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.user.pending_email:
            User.objects.filter(pk=request.user.pk).update(pending_email="")
            messages.info(request, _("The change of email address is cancelled."))
        return redirect("profile")
