"""Two-step verification (ASVS 6.3.3): a code from an authenticator app (TOTP,
django-otp's `TOTPDevice`), or one of ten single-use recovery codes kept as hashes
(`accounts.models.RecoveryCodes`). docs/security.md says what is asked when, and why.

- A login with the password logs the account in; when the account has an app,
  `require_second_step` (run on every login: the site's, the admin's, any other)
  marks the session pending, and `accounts.middleware.SecondFactorMiddleware`
  sends its every request to `VerifyView` until a right code is entered. Only then
  does django-otp mark the session verified (`django_otp.login`, `is_verified()`).
- The admin opens to verified staff only (`accounts.admin_site`); staff without an
  app are walked through `SetupView` on their first visit.
- Wrong codes are counted per account like wrong passwords
  (`throttle.SECOND_FACTOR_PER_ACCOUNT`, 429 past the limit), on top of
  django-otp's own back-off per app.
"""

import re
import secrets
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import RedirectURLMixin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts import throttle
from accounts.forms import check_current_password
from accounts.models import RecoveryCode, RecoveryCodes, User

# (The code messages and shapes live in accounts.reauth; named here as before.)
from accounts.reauth import (
    APP_CODE,
    CODE_REQUIRED,
    RECOVERY_CODE_ALPHABET,
    RECOVERY_CODE_LENGTH,
    authenticator_of,
    check_code,
    code_field,
    normalise,
)
from accounts.reauth import (
    CODE_MALFORMED as CODE_MALFORMED,
)
from accounts.reauth import (
    CODE_TOO_LONG as CODE_TOO_LONG,
)
from accounts.reauth import (
    CODE_WRONG as CODE_WRONG,
)
from accounts.reauth import (
    RECOVERY_CODE as RECOVERY_CODE,
)
from accounts.validators import MAX_PASSWORD_LENGTH

# Session keys: the login waits for its code; the key of an app being set up; new
# recovery codes between the POST that made them and the page that shows them once.
PENDING_SESSION_KEY = "two_factor_pending"
SETUP_KEY_SESSION_KEY = "two_factor_setup_key"
NEW_CODES_SESSION_KEY = "two_factor_new_codes"

RECOVERY_CODE_COUNT = 10
# ASVS 6.5.5: an app's code works for one 30-second step only (django-otp's default
# tolerance is a step either side: about 90 s). The phone's clock offset is learnt
# at setup, where a step either side is accepted, and kept as the app's drift.
APP_TOLERANCE = 0
SETUP_TOLERANCE = 1
APP_CODE_MALFORMED = _("Enter the 6 digits your authenticator app shows for DinnerParty.")
APP_CODE_WRONG = _(
    "That code doesn't match. Enter the code the app shows now, and check that "
    "your phone's clock is set automatically."
)


# --- Reads ------------------------------------------------------------------------------


def is_verified(user) -> bool:
    """Has this request's user passed the second factor in this session?
    (`is_verified` is what django-otp's OTPMiddleware adds to the request's user.)"""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def second_step_pending(request: HttpRequest) -> bool:
    """Did this session's login stop before the code step?"""
    return PENDING_SESSION_KEY in request.session


def second_factor_url(user: User, next_url: str) -> str:
    """Where a user who has not passed the second factor goes: the code step, or
    setting an app up when there is none; then on to `next_url`."""
    name = "two_factor_verify" if authenticator_of(user) else "two_factor_setup"
    return f"{reverse(name)}?{urlencode({'next': next_url}, safe='/')}"


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user).count()


# --- Writes -----------------------------------------------------------------------------


def _new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def recovery_codes_renew(*, user: User) -> list[str]:
    """Ten new recovery codes for `user`, replacing any old ones. Returns them as
    the user is shown them (xxxxx-xxxxx); only their hashes are stored."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        RecoveryCodes.objects.filter(user=user).delete()
        device = RecoveryCodes.objects.create(user=user, name="Recovery codes")
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, digest=make_password(code)) for code in codes
        )
    half = RECOVERY_CODE_LENGTH // 2
    return [f"{code[:half]}-{code[half:]}" for code in codes]


def two_factor_enable(*, user: User, app: TOTPDevice) -> list[str]:
    """Turn two-step verification on with `app` (checked, unsaved): it replaces any
    other, and comes with new recovery codes, which are returned."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        app.confirmed = True
        app.save()
        return recovery_codes_renew(user=user)


def two_factor_disable(*, user: User) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodes.objects.filter(user=user).delete()


def _pass_second_factor(request: HttpRequest, device) -> None:
    """Mark the session verified by `device`, under a new session key (the
    session now opens more than it did)."""
    otp_login(request, device)
    request.session.pop(PENDING_SESSION_KEY, None)
    request.session.cycle_key()


@receiver(user_logged_in, dispatch_uid="accounts.two_factor.require_second_step")
def require_second_step(sender, request: HttpRequest | None, user: User, **kwargs) -> None:
    """Every login starts unverified (even the same account logging in again in a
    verified session), and waits for the code step when the account has an app."""
    session = getattr(request, "session", None)
    if session is None or getattr(user, "otp_device", None) is not None:
        return  # no session to mark; or a login that already checked a code
    session.pop(DEVICE_ID_SESSION_KEY, None)
    has_app = getattr(user, "has_authenticator", None)  # read with the login's lookup
    if has_app is None:
        has_app = authenticator_of(user) is not None
    if has_app:
        session[PENDING_SESSION_KEY] = True
    else:
        session.pop(PENDING_SESSION_KEY, None)


# --- Forms ------------------------------------------------------------------------------


def _password_field() -> forms.CharField:
    return forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To be sure it's you."),
    )


def _check_password(user: User, password: str) -> None:
    check_current_password(
        user,
        password,
        error=ValidationError(_("That's not your current password."), code="password_incorrect"),
    )


class CodeForm(forms.Form):
    """The code step: an app's 6 digits or a recovery code, checked under the
    per-account limit. `device` is the one that accepted it."""

    code = code_field(
        _("Code"),
        _("The 6 digits your authenticator app shows, or one of your recovery codes."),
        required=CODE_REQUIRED,
        autofocus=True,
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean_code(self) -> str:
        token = normalise(self.cleaned_data["code"])
        self.device = check_code(self.user, token)
        return token


class SetupForm(forms.Form):
    """Setting an app up: a code it shows for the new key, and the password."""

    code = code_field(
        _("Code from the app"),
        _("The 6 digits the app shows for DinnerParty after you add it."),
        required=APP_CODE_MALFORMED,
    )
    password = _password_field()

    def __init__(self, *args, user: User, key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # The app being set up, unsaved: two_factor_enable saves it once it is checked.
        self.app = TOTPDevice(
            user=user, name="Authenticator app", key=key, tolerance=APP_TOLERANCE, confirmed=False
        )

    def clean_code(self) -> str:
        token = normalise(self.cleaned_data["code"])
        if not APP_CODE.fullmatch(token):
            raise ValidationError(APP_CODE_MALFORMED, code="invalid")
        app = self.app
        totp = TOTP(app.bin_key, app.step, app.t0, app.digits, app.drift)
        # A step either side here only, to learn how far the phone's clock is off
        # (its drift); after this, codes are taken from exactly one 30-second step.
        if not totp.verify(int(token), tolerance=SETUP_TOLERANCE):
            # Not counted: whoever is here sees the key already, so a guess wins nothing.
            raise ValidationError(APP_CODE_WRONG, code="wrong_code")
        # As TOTPDevice.verify_token keeps them: this code can't log in afterwards.
        app.last_t, app.drift = totp.t(), totp.drift
        return token

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        _check_password(self.user, password)
        return password


class PasswordForm(forms.Form):
    password = _password_field()

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        _check_password(self.user, password)
        return password


# --- Views ------------------------------------------------------------------------------

FORM_ERRORS = _("Please fix the errors below.")


class TwoFactorFormView(LoginRequiredMixin, FormView):
    """What the pages below share: the form gets the user, a refused form says why
    (429 when the throttle refused it), and nothing is cached."""

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_invalid(self, form) -> HttpResponse:
        messages.error(self.request, throttle.refusal(form) or FORM_ERRORS)
        return throttle.mark_throttled_response(super().form_invalid(form))


@method_decorator([never_cache, sensitive_post_parameters("code")], name="dispatch")
class VerifyView(RedirectURLMixin, TwoFactorFormView):
    """The code step: after the password at login, and before the admin for staff
    whose session has not passed it."""

    form_class = CodeForm
    template_name = "accounts/two_factor_verify.html"
    next_page = settings.LOGIN_REDIRECT_URL

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and (is_verified(user) or authenticator_of(user) is None):
            request.session.pop(PENDING_SESSION_KEY, None)  # nothing to ask
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(next=self.get_redirect_url(), **kwargs)

    def form_valid(self, form: CodeForm) -> HttpResponse:
        user = self.request.user
        if second_step_pending(self.request):
            messages.success(
                self.request, gettext("Welcome back, %(name)s!") % {"name": user.display_name}
            )
        _pass_second_factor(self.request, form.device)
        if isinstance(form.device, RecoveryCodes):
            left = recovery_codes_left(user)
            messages.warning(
                self.request,
                ngettext(
                    "You used a recovery code; %(count)d left. "
                    "Make new ones from your profile if you're running low.",
                    "You used a recovery code; %(count)d left. "
                    "Make new ones from your profile if you're running low.",
                    left,
                )
                % {"count": left},
            )
        return HttpResponseRedirect(self.get_success_url())


@method_decorator([never_cache, sensitive_post_parameters("code", "password")], name="dispatch")
class SetupView(RedirectURLMixin, TwoFactorFormView):
    """Turn two-step verification on: scan the key (or type it), confirm with a code
    and the password; the recovery codes come next."""

    form_class = SetupForm
    template_name = "accounts/two_factor_setup.html"
    next_page = "profile"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and authenticator_of(request.user) is not None:
            messages.info(request, _("Two-step verification is already on."))
            return HttpResponseRedirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def setup_key(self) -> str:
        """The key offered to this session, the same on every visit until it is used."""
        key = self.request.session.get(SETUP_KEY_SESSION_KEY)
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{40}", key):
            key = self.request.session[SETUP_KEY_SESSION_KEY] = random_hex(20)
        return key

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "key": self.setup_key()}

    def get_context_data(self, **kwargs) -> dict:
        app = TOTPDevice(user=self.request.user, key=self.setup_key())
        secret = b32encode(app.bin_key).decode()
        return super().get_context_data(
            qr_code=segno.make(app.config_url, error="m").svg_data_uri(scale=5),
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            next=self.get_redirect_url(),
            **kwargs,
        )

    def form_valid(self, form: SetupForm) -> HttpResponse:
        codes = two_factor_enable(user=self.request.user, app=form.app)
        self.request.session.pop(SETUP_KEY_SESSION_KEY, None)
        _pass_second_factor(self.request, form.app)
        self.request.session[NEW_CODES_SESSION_KEY] = codes
        messages.success(self.request, _("Two-step verification is on."))
        return HttpResponseRedirect(
            f"{reverse('two_factor_recovery_codes')}?"
            f"{urlencode({'next': self.get_success_url()}, safe='/')}"
        )


class VerifiedOnlyMixin:
    """Changes to the second factor: only with it on, and in a session that passed it."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            if authenticator_of(request.user) is None:
                messages.info(request, _("Two-step verification is off."))
                return HttpResponseRedirect(reverse("profile"))
            if not is_verified(request.user):
                return HttpResponseRedirect(second_factor_url(request.user, request.path))
        return super().dispatch(request, *args, **kwargs)


@method_decorator([never_cache, sensitive_post_parameters("password")], name="dispatch")
class RecoveryCodesView(VerifiedOnlyMixin, RedirectURLMixin, TwoFactorFormView):
    """New recovery codes are shown here once, right after they are made; otherwise
    the page says how many are left and makes new ones for the password."""

    form_class = PasswordForm
    template_name = "accounts/two_factor_recovery_codes.html"
    next_page = "profile"

    def get_context_data(self, **kwargs) -> dict:
        codes = self.request.session.pop(NEW_CODES_SESSION_KEY, None)
        return super().get_context_data(
            new_codes=codes,
            codes_left=None if codes else recovery_codes_left(self.request.user),
            continue_url=self.get_success_url(),
            **kwargs,
        )

    def form_valid(self, form: PasswordForm) -> HttpResponse:
        self.request.session[NEW_CODES_SESSION_KEY] = recovery_codes_renew(user=self.request.user)
        messages.success(
            self.request, _("Here are your new recovery codes. The old ones no longer work.")
        )
        return HttpResponseRedirect(reverse("two_factor_recovery_codes"))


@method_decorator([never_cache, sensitive_post_parameters("password")], name="dispatch")
class DisableView(VerifiedOnlyMixin, TwoFactorFormView):
    form_class = PasswordForm
    template_name = "accounts/two_factor_disable.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form: PasswordForm) -> HttpResponse:
        two_factor_disable(user=self.request.user)
        text = gettext("Two-step verification is off: your password alone logs you in.")
        if self.request.user.is_staff:
            text = gettext(
                "Two-step verification is off: your password alone logs you in. "
                "The admin will ask you to set it up again."
            )
        messages.success(self.request, text)
        return super().form_valid(form)
