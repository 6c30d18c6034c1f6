from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin

from common.food import validate_allergens, validate_diets
from common.sql import constant
from common.text import validate_multiline_text, validate_single_line_text
from common.timezones import validate_timezone

# An address still unconfirmed this long after sign-up is free for someone else to
# sign up with (accounts.verification releases it).
UNCONFIRMED_EMAIL_KEPT_FOR = timedelta(days=7)


def default_timezone() -> str:
    return settings.TIME_ZONE


def unconfirmed_too_long(*, joined_before=None) -> Q:
    """Accounts whose sign-up address went unconfirmed for longer than
    UNCONFIRMED_EMAIL_KEPT_FOR: the address no longer counts as theirs.
    `joined_before`: that limit (now - UNCONFIRMED_EMAIL_KEPT_FOR) given by the
    caller, e.g. as a compiled query's input."""
    if joined_before is None:
        joined_before = timezone.now() - UNCONFIRMED_EMAIL_KEPT_FOR
    return Q(email_confirmed_at__isnull=True, date_joined__lt=joined_before)


def accounts_with_address(email) -> QuerySet["User"]:
    """The accounts whose address is `email` in any letter case (at most one), as
    the unique index compares them: Lower("email") where the address is not '',
    so that index finds it (`email__iexact` compares UPPER(email), which no index
    has; the '' a constant, so a prepared statement's plan uses it too: common.sql).
    `email`: a string, or an expression (a compiled query's input)."""
    email = email if hasattr(email, "resolve_expression") else Value(email)
    return (
        User.objects.alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(email))
        .exclude(email=constant(""))
    )


class User(AbstractUser):
    first_name = models.CharField(
        _("first name"), max_length=150, blank=True, validators=[validate_single_line_text]
    )
    last_name = models.CharField(
        _("last name"), max_length=150, blank=True, validators=[validate_single_line_text]
    )
    # Django's EmailValidator takes control characters in a quoted local part.
    email = models.EmailField(
        _("email address"), max_length=254, validators=[validate_single_line_text]
    )
    dietary_notes = models.TextField(
        _("dietary notes"),
        blank=True,
        max_length=500,
        validators=[validate_multiline_text],
        help_text=_("Anything a host should know, e.g. “vegetarian, no nuts”."),
    )
    diets = models.JSONField(
        _("diets"),
        default=list,
        blank=True,
        validators=[validate_diets],
        help_text=_("Diets you follow."),
    )
    allergies = models.JSONField(
        _("allergies"),
        default=list,
        blank=True,
        validators=[validate_allergens],
        help_text=_("Allergens you must avoid (the 14 that EU food law names)."),
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_timezone,
        validators=[validate_timezone],
        help_text=_("Your parties default to this zone; other times are shown in it."),
    )
    # Blank: follow the browser (or the footer's switcher). Emails use it too.
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The language of the site and of your emails; blank follows your browser."),
    )
    # Set with every stored notice (parties.Notice), cleared when they are shown:
    # the user row is read on every request anyway, so pages look for notices
    # only when there are some.
    has_notices = models.BooleanField(default=False, editable=False)
    # None until the owner opens the link sent to `email` (accounts.verification):
    # until then the site emails that address nothing else, and holds the messages
    # the user sends to guests. Accounts made before this existed count as confirmed.
    email_confirmed_at = models.DateTimeField(_("email confirmed"), null=True, editable=False)
    # A new address waiting for its confirmation link; `email` stays until it is opened.
    pending_email = models.EmailField(
        _("new email address, not yet confirmed"), max_length=254, blank=True, editable=False
    )

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message=_("That username is taken."),
            ),
            models.UniqueConstraint(
                Lower("email"),
                # An account whose unconfirmed address was released has none ("").
                condition=~Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("An account with this email already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def has_password(self) -> bool:
        """False for a guest account, made by a reply's emailed link: it has none
        until its owner sets one (accounts.views.KeepAccountView)."""
        return self.has_usable_password()

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def email_to_confirm(self) -> str:
        """The address waiting for its confirmation link: a new one the user asked
        for, or the sign-up address until it is confirmed; "" when none is."""
        return self.pending_email or ("" if self.email_confirmed else self.email)


class Session(AbstractBaseSession):
    """Django's database session, with the account it is logged in to (if any) in
    a column of its own: every logged-in request loads the two in one query
    (`accounts.sessions`), and deleting an account deletes its sessions."""

    user = models.ForeignKey(
        User, null=True, blank=True, editable=False, on_delete=models.CASCADE, related_name="+"
    )
    # For the list of one's sessions (accounts.sessions): the browser and system it
    # runs on, and when it was last saved (at most every few minutes while in use).
    device = models.CharField(max_length=100, blank=True, default="", editable=False)
    last_seen = models.DateTimeField(null=True, blank=True, editable=False)

    @classmethod
    def get_session_store_class(cls):
        # The engine in use (accounts.sessions), looked up as Django's
        # SessionMiddleware does.
        return import_module(settings.SESSION_ENGINE).SessionStore


class RecoveryCodes(TimestampMixin, Device):
    """A user's recovery codes for the second factor, as a django-otp device: one
    code logs in once, instead of the authenticator app's. Only hashes are kept
    (`RecoveryCode`); django-otp's own static tokens are stored as typed, so they
    are not used. Made and checked by `accounts.two_factor`."""

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")

    def verify_token(self, token: str) -> bool:
        """Is `token` (already normalised) one of the unused codes? If so it is used
        up. django_otp.verify_token calls this with the device row locked, and the
        delete must remove the row, so the same code never succeeds twice."""
        for code in self.codes.all():
            if check_password(token, code.digest):
                deleted, _ = RecoveryCode.objects.filter(pk=code.pk).delete()
                if deleted:
                    self.set_last_used_timestamp()
                return bool(deleted)
        return False


class RecoveryCode(models.Model):
    """One unused recovery code, hashed like a password (salted; Argon2)."""

    device = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=128)

    def __str__(self) -> str:
        return f"recovery code #{self.pk}"  # never the digest
