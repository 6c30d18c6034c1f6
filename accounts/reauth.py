"""Checking a second-factor code — an authenticator app's 6 digits or a recovery
code — for the code step at login (`accounts.two_factor.CodeForm`) and for
re-authenticating before an account's email or password changes or it is deleted
(ASVS 7.5.1; `accounts.forms`). Each wrong code counts against the account
(`throttle.SECOND_FACTOR_PER_ACCOUNT`), and django-otp's own back-off applies too."""

import math
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import throttle
from accounts.models import RecoveryCodes, User

# 10 characters of base32: 50 bits, hashed with the password hasher (a salted
# Argon2id), as ASVS 6.5.2 asks of look-up secrets under 112 bits.
RECOVERY_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
RECOVERY_CODE_LENGTH = 10
APP_CODE = re.compile(r"[0-9]{6}")
RECOVERY_CODE = re.compile(rf"[{RECOVERY_CODE_ALPHABET}]{{{RECOVERY_CODE_LENGTH}}}")
CODE_MAX_LENGTH = 32  # a recovery code with spaces or dashes fits; nothing much longer

CODE_REQUIRED = _("Enter the 6-digit code from your authenticator app, or a recovery code.")
CODE_MALFORMED = _(
    "That isn't a code we know: enter the 6 digits your authenticator app shows, "
    "or a recovery code (10 letters and digits)."
)
CODE_TOO_LONG = _(
    "That's too long for a code: enter the 6 digits your app shows, or a recovery code."
)
CODE_WRONG = _("That code isn't right. Check that you use the DinnerParty entry in your app.")
REAUTH_CODE_REQUIRED = _(
    "You use two-step verification: enter the 6-digit code from your authenticator app "
    "(or a recovery code) as well."
)


def authenticator_of(user: User) -> TOTPDevice | None:
    """The user's authenticator app, when two-step verification is on."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def normalise(code: str) -> str:
    """A code as typed, with spaces and dashes gone and letters in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def code_field(
    label: str, help_text: str, *, required: str, autofocus: bool = False
) -> forms.CharField:
    attrs = {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
    if autofocus:
        attrs["autofocus"] = True
    return forms.CharField(
        label=label,
        max_length=CODE_MAX_LENGTH,
        help_text=help_text,
        error_messages={"required": required, "max_length": CODE_TOO_LONG},
        widget=forms.TextInput(attrs=attrs),
    )


def reauth_code_field() -> forms.CharField:
    """The code asked beside the password of someone with two-step verification on."""
    field = code_field(
        _("Code from your authenticator app"),
        _("The 6 digits your app shows now, or one of your recovery codes."),
        required=REAUTH_CODE_REQUIRED,
    )
    field.required = False  # asked only when it is needed (ProfileForm: an email change)
    return field


def _backoff_seconds(device: Device) -> int:
    """Seconds django-otp's own back-off still refuses `device` (1, 2, 4, … seconds
    after consecutive wrong codes; never reset by time alone, only by a right code)."""
    allowed, details = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (details or {}).get("locked_until")
    if locked_until is None:
        return 60
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def check_code(user: User, token: str) -> Device:
    """The device that accepts `token` (normalised) for `user`: the app or the
    recovery codes (a recovery code is used up). Raises ValidationError when it is
    malformed (not counted), refused by the limits (429), or wrong (counted)."""
    if APP_CODE.fullmatch(token):
        device = authenticator_of(user)
    elif RECOVERY_CODE.fullmatch(token):
        device = RecoveryCodes.objects.filter(user=user).first()
    else:
        raise ValidationError(CODE_MALFORMED, code="invalid")  # no guess: not counted
    account = throttle.account_key(user.pk)
    wait = throttle.SECOND_FACTOR_PER_ACCOUNT.retry_after(account)
    if device is not None:
        wait = max(wait, _backoff_seconds(device))
    if wait:
        raise ValidationError(throttle.too_many_attempts_message(wait), code=throttle.THROTTLED)
    verified = device and verify_token(user, device.persistent_id, token)
    if not verified:
        throttle.SECOND_FACTOR_PER_ACCOUNT.hit(account)
        raise ValidationError(CODE_WRONG, code="wrong_code")
    throttle.SECOND_FACTOR_PER_ACCOUNT.reset(account)
    if isinstance(verified, RecoveryCodes):
        # The owner is back: wrong guesses at the app no longer hold it.
        TOTPDevice.objects.filter(user=user).update(
            throttling_failure_count=0, throttling_failure_timestamp=None
        )
    return verified


def check_reauth_code(user: User, code: str) -> None:
    """Re-authenticating (ASVS 7.5.1): for a user with an authenticator app, a right
    code too, after the right password. Nothing to check for anyone else."""
    if authenticator_of(user) is None:
        return
    if not code.strip():
        raise ValidationError(REAUTH_CODE_REQUIRED, code="code_required")
    check_code(user, normalise(code))
