from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import CreateView, FormView, TemplateView, UpdateView

from accounts import sessions, throttle, two_factor, verification
from accounts.forms import (
    EMAIL_TAKEN,
    AccountDeleteForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    RegisterForm,
    SessionEndForm,
)
from accounts.models import User
from parties import services
from parties.models import (
    RSVP,
    Announcement,
    DinnerParty,
    Dish,
    Invitation,
    InvitationState,
    PendingReply,
)

FORM_ERRORS = "Please fix the errors below."
RESET_SENT = (
    "If an account exists for that address, we've sent a link to reset your "
    "password. It may take a minute to arrive."
)


class RegisterView(CreateView):
    form_class = RegisterForm
    template_name = "registration/register.html"
    success_url = reverse_lazy("parties:list")

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            messages.info(request, "You're already signed up and logged in.")
            return redirect(self.success_url)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        ip = throttle.client_ip(request)
        wait = throttle.SIGNUP_PER_IP.retry_after(ip)
        if wait:
            self.object = None
            form = self.get_form()
            form.is_valid()
            form.add_error(None, throttle.too_many_attempts_message(wait))
            messages.error(request, throttle.too_many_attempts_message(wait))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # Every attempt counts, refused ones too: "this email is taken" answers
        # whether an address has an account, so asking it is rationed.
        throttle.SIGNUP_PER_IP.hit(ip)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: RegisterForm) -> HttpResponse:
        try:
            with transaction.atomic():
                # An account that left this address unconfirmed too long loses it.
                verification.release_stale_addresses(form.cleaned_data["email"])
                self.object = form.save()
        except IntegrityError:
            # Someone took the name or address between validation and insert.
            form.add_error("email", EMAIL_TAKEN)
            return self.form_invalid(form)
        login(self.request, self.object, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(
            self.request,
            f"Welcome to DinnerParty, {self.object.username}! Find a table or host your own.",
        )
        verification.send_link(self.object)
        messages.info(self.request, verification.link_sent_message(self.object.email))
        response = HttpResponseRedirect(self.get_success_url())
        throttle.remember_device(response, self.object.pk)
        return response

    def form_invalid(self, form: RegisterForm) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        throttle.remember_device(response, form.get_user().pk)
        if form.cleaned_data.get("remember_me"):
            self.request.session.set_expiry(settings.SESSION_COOKIE_AGE)
        else:
            self.request.session.set_expiry(0)  # ends when the browser closes
        if not two_factor.second_step_pending(self.request):  # else welcomed after the code
            messages.success(self.request, f"Welcome back, {form.get_user().display_name}!")
        return response

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        errors = form.non_field_errors()
        messages.error(self.request, errors[0] if errors else FORM_ERRORS)
        return throttle.mark_throttled_response(super().form_invalid(form))


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("home")

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You've been logged out. See you at the table!")
        return response


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    form_class = PasswordChangeForm
    success_url = reverse_lazy("profile")
    success_message = "Your password has been changed. Other sessions have been logged out."

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        # The others fail the password check on their next request anyway; gone
        # now, they no longer show as logged in on the list of sessions.
        sessions.end_sessions(user=self.request.user, keep=self.request.session.session_key)
        return response

    def form_invalid(self, form) -> HttpResponse:
        messages.error(self.request, throttle.refusal(form) or FORM_ERRORS)
        return throttle.mark_throttled_response(super().form_invalid(form))


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        ip = throttle.client_ip(request)
        wait = throttle.RESET_PER_IP.retry_after(ip)
        if wait:
            form = self.get_form()
            form.add_error(None, throttle.too_many_attempts_message(wait))
            messages.error(request, throttle.too_many_attempts_message(wait))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        email = form.cleaned_data["email"]
        throttle.RESET_PER_IP.hit(throttle.client_ip(self.request))
        # Past the per-address limit nothing is sent, but the answer is the same,
        # so the page says nothing about which addresses have accounts.
        if not throttle.RESET_PER_ADDRESS.retry_after(email):
            throttle.RESET_PER_ADDRESS.hit(email)
            super().form_valid(form)
        messages.info(self.request, RESET_SENT)
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class PasswordResetConfirmView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    success_message = "Your password has been set. You can log in with it now."

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        sessions.end_sessions(user=form.user, keep=None)  # (as after a password change)
        return response

    def form_invalid(self, form) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)


class ProfileView(LoginRequiredMixin, SuccessMessageMixin, UpdateView):
    model = User
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("profile")
    success_message = "Your profile has been saved."

    def get_object(self, queryset=None) -> User:
        return self.request.user

    def get_form_kwargs(self) -> dict:
        # Read once: the form asks for a code with it, the page says since when it's on.
        self.authenticator = two_factor.authenticator_of(self.request.user)
        return {**super().get_form_kwargs(), "has_app": self.authenticator is not None}

    def get_context_data(self, **kwargs) -> dict:
        user = self.request.user
        hosting = DinnerParty.objects.upcoming().filter(host=user).order_by("starts_at", "pk")
        attending = (
            RSVP.objects.filter(guest=user, party__starts_at__gte=timezone.now())
            .select_related("party__host")
            .order_by("party__starts_at", "party_id")
        )
        context = super().get_context_data(hosting=hosting, attending=attending, **kwargs)
        context["authenticator"] = self.authenticator  # read when the form was made
        return context

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        # A new address waits for its confirmation link; the old one stays till then.
        new_address = verification.hold_new_address(form.instance, old_address=form.original_email)
        try:
            with transaction.atomic():
                response = super().form_valid(form)
        except IntegrityError:
            form.add_error("email", EMAIL_TAKEN)
            return self.form_invalid(form)
        if new_address:
            verification.email_change_requested(user=self.object, old_address=self.object.email)
            messages.info(self.request, verification.link_sent_message(self.object.pending_email))
        return response

    def form_invalid(self, form: ProfileForm) -> HttpResponse:
        messages.error(self.request, throttle.refusal(form) or FORM_ERRORS)
        return throttle.mark_throttled_response(super().form_invalid(form))


class AccountDeleteView(LoginRequiredMixin, FormView):
    """Delete the account after the password is re-entered: replies go (their
    seats are freed for the waitlist), hosted parties are cancelled with guests
    told, and nothing else of the user's is kept."""

    form_class = AccountDeleteForm
    template_name = "accounts/account_confirm_delete.html"
    success_url = reverse_lazy("home")

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form: AccountDeleteForm) -> HttpResponse:
        user = self.request.user
        logout(self.request)
        # Its other sessions end now, from the cache too (the rows would go with it).
        sessions.end_sessions(user=user, keep=None)
        services.user_delete(user=user)
        messages.info(self.request, "Your account and everything in it has been deleted. Goodbye!")
        return super().form_valid(form)

    def form_invalid(self, form: AccountDeleteForm) -> HttpResponse:
        messages.error(self.request, throttle.refusal(form) or FORM_ERRORS)
        return throttle.mark_throttled_response(super().form_invalid(form))


class DataExportView(LoginRequiredMixin, View):
    """Everything DinnerParty holds about the user, as a JSON download."""

    def get(self, request: HttpRequest) -> JsonResponse:
        user = request.user
        hosted = DinnerParty.objects.filter(host=user).order_by("starts_at", "pk")
        rsvps = RSVP.objects.filter(guest=user).select_related("party").order_by("created_at")
        dishes = Dish.objects.filter(added_by=user).select_related("party")
        announcements = Announcement.objects.filter(author=user).select_related("party")
        invitations_sent = (
            Invitation.objects.filter(invited_by=user)
            .select_related("party")
            .order_by("created_at", "pk")
        )
        # What reached their address: only once it is confirmed as theirs.
        address = user.email if user.email_confirmed else ""
        invitations_received = (
            Invitation.objects.filter(email__iexact=address)
            .exclude(state=InvitationState.HELD)
            .select_related("party", "invited_by")
            .order_by("created_at", "pk")
        )
        pending_replies = PendingReply.objects.filter(email__iexact=address)
        if not address:
            invitations_received, pending_replies = (
                invitations_received.none(),
                pending_replies.none(),
            )
        data = {
            "profile": {
                "username": user.username,
                "email": user.email,
                "email_confirmed_at": (
                    user.email_confirmed_at.isoformat() if user.email_confirmed_at else None
                ),
                "pending_email": user.pending_email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "dietary_notes": user.dietary_notes,
                "diets": user.diets,
                "allergies": user.allergies,
                "timezone": user.timezone,
                "date_joined": user.date_joined.isoformat(),
                "last_login": user.last_login.isoformat() if user.last_login else None,
            },
            "parties_hosted": [
                {
                    "title": party.title,
                    "starts_at": party.starts_at.isoformat(),
                    "timezone": party.timezone,
                    "venue": party.venue,
                    "area": party.area,
                    "hide_address": party.hide_address,
                    "main_dish": party.main_dish,
                    "potluck": party.potluck,
                    "seats": party.seats,
                    "seats_taken": party.seats_taken,
                    "description": party.description,
                    "visibility": party.visibility,
                    "created_at": party.created_at.isoformat(),
                }
                for party in hosted
            ],
            "rsvps": [
                {
                    "party": rsvp.party.title,
                    "party_starts_at": rsvp.party.starts_at.isoformat(),
                    "status": rsvp.status,
                    "plus_ones": rsvp.plus_ones,
                    "note": rsvp.note,
                    "plus_one_diets": rsvp.plus_one_diets,
                    "plus_one_allergies": rsvp.plus_one_allergies,
                    "created_at": rsvp.created_at.isoformat(),
                    "updated_at": rsvp.updated_at.isoformat(),
                }
                for rsvp in rsvps
            ],
            "dishes": [
                {
                    "party": dish.party.title,
                    "course": dish.course,
                    "name": dish.name,
                    "allergens": dish.allergens,
                    "allergens_complete": dish.allergens_complete,
                    "suits": dish.suits,
                    "created_at": dish.created_at.isoformat(),
                }
                for dish in dishes
            ],
            "messages": [
                {
                    "party": announcement.party.title,
                    "audience": announcement.audience,
                    "text": announcement.text,
                    "created_at": announcement.created_at.isoformat(),
                }
                for announcement in announcements.order_by("created_at", "pk")
            ],
            "invitations_sent": [
                {
                    "party": invitation.party.title,
                    "email": invitation.email,
                    "name": invitation.name,
                    "state": invitation.state,
                    **_moments(invitation, "created_at", "sent_at", "opened_at", "replied_at"),
                }
                for invitation in invitations_sent
            ],
            "invitations_received": [
                {
                    "party": invitation.party.title,
                    "party_starts_at": invitation.party.starts_at.isoformat(),
                    "invited_by": invitation.invited_by.display_name,
                    "email": invitation.email,
                    "name": invitation.name,
                    "state": invitation.state,
                    **_moments(invitation, "created_at", "opened_at", "replied_at"),
                }
                for invitation in invitations_received
            ],
            "replies_by_email_link": [
                {
                    "party": reply.party.title,
                    "name": reply.name,
                    "email": reply.email,
                    "status": reply.status,
                    "plus_ones": reply.plus_ones,
                    "note": reply.note,
                    **_moments(reply, "created_at", "used_at"),
                }
                for reply in pending_replies.select_related("party").order_by("created_at", "pk")
            ],
        }
        response = JsonResponse(data, json_dumps_params={"indent": 2, "ensure_ascii": False})
        response["Content-Disposition"] = 'attachment; filename="dinnerparty-my-data.json"'
        return response


def _moments(obj: object, *names: str) -> dict[str, str | None]:
    """These datetime fields of `obj` in ISO 8601 (None when unset)."""
    return {
        name: value.isoformat() if (value := getattr(obj, name)) is not None else None
        for name in names
    }


class SessionListView(LoginRequiredMixin, TemplateView):
    """Where the user is logged in: each session's device and when it was last
    used, with a button to end it, or all but this one (after the password)."""

    template_name = "accounts/sessions.html"

    def get_context_data(self, **kwargs) -> dict:
        active = sessions.active_sessions(
            self.request.user, current_key=self.request.session.session_key
        )
        kwargs.setdefault("form", SessionEndForm(user=self.request.user))
        return super().get_context_data(active_sessions=active, **kwargs)


class SessionEndMixin(LoginRequiredMixin):
    """POST only, with the password (ASVS 7.5.2): wrong or missing, the list again
    with the form's error (429 once the password checks are over their limit)."""

    http_method_names = ["post"]

    def refused(self, form: SessionEndForm) -> HttpResponse:
        messages.error(self.request, throttle.refusal(form) or FORM_ERRORS)
        page = SessionListView()
        page.setup(self.request)
        status = 429 if throttle.refusal(form) else 200
        return page.render_to_response(page.get_context_data(form=form), status=status)

    def checked_form(self) -> SessionEndForm:
        return SessionEndForm(self.request.POST, user=self.request.user)


class SessionEndView(SessionEndMixin, View):
    """POST: log out one of the user's other sessions (404 for any other id)."""

    def post(self, request: HttpRequest, session_id: str) -> HttpResponse:
        form = self.checked_form()
        if not form.is_valid():
            return self.refused(form)
        ended = sessions.end_sessions(
            user=request.user, keep=request.session.session_key, only=session_id
        )
        if not ended:
            raise Http404("No such session.")
        messages.success(request, "That session is logged out.")
        return redirect("account_sessions")


class SessionEndOthersView(SessionEndMixin, View):
    """POST: log out every session of the user's but this one."""

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.checked_form()
        if not form.is_valid():
            return self.refused(form)
        ended = sessions.end_sessions(user=request.user, keep=request.session.session_key)
        if ended:
            messages.success(
                request,
                ngettext(
                    "Logged out everywhere else (%(count)d session).",
                    "Logged out everywhere else (%(count)d sessions).",
                    ended,
                )
                % {"count": ended},
            )
        else:
            messages.info(request, "You weren't logged in anywhere else.")
        return redirect("account_sessions")


class KeepAccountView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """A guest account (made when a reply's emailed link was opened, with no
    password) sets its first password, with Django's SetPasswordForm: it then
    logs in like any account. Accounts that have a password change it instead."""

    form_class = SetPasswordForm
    template_name = "accounts/keep_account.html"
    success_url = reverse_lazy("parties:list")
    success_message = "Your password is set: log in with your username %(username)s or your email."

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and request.user.has_usable_password():
            return redirect("password_change")
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self) -> str:
        target = self.request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return super().get_success_url()

    def get_success_message(self, cleaned_data) -> str:
        return self.success_message % {"username": self.request.user.username}

    def form_invalid(self, form) -> HttpResponse:
        messages.error(self.request, FORM_ERRORS)
        return super().form_invalid(form)
