from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import throttle
from accounts.backends import login_candidates
from accounts.models import User, accounts_with_address, unconfirmed_too_long
from accounts.reauth import authenticator_of, check_reauth_code, reauth_code_field
from accounts.validators import MAX_PASSWORD_LENGTH
from common.food import Allergen, Diet
from common.forms import codes_field
from common.timezones import BrowserTimeZoneField, TimeZoneField

EMAIL_TAKEN = _("An account with this email already exists.")
INVALID_LOGIN = _("That username or email and password don't match. Please try again.")
NEW_ADDRESS_HELP = _("A new address is used once you open the link we send to it.")


def email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    """Whether another account has `email`. One that left it unconfirmed for too
    long does not count: the address is released when it is taken
    (accounts.verification)."""
    holders = accounts_with_address(email).exclude(pk=exclude_pk)
    return holders.exclude(unconfirmed_too_long()).exists()


class EmailCheckedByCleanEmail:
    """`clean_email` says whether the address is taken (see `email_taken`), so the
    form does not check the unique-email constraint again, which would count a
    released address as taken; the database still enforces it on save."""

    def validate_constraints(self) -> None:
        exclude = self._get_validation_exclusions() | {"email"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)


class RegisterForm(EmailCheckedByCleanEmail, UserCreationForm):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_(
            "We'll send a link to confirm it, and only use it for party updates "
            "and password resets."
        ),
    )
    # Filled in by the browser (static/js/timezone.js); the profile changes it.
    timezone = BrowserTimeZoneField()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "timezone")

    def __init__(self, *args, language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # The browser's language (Accept-Language or the switcher's cookie) at
        # sign-up; the profile changes it.
        self.instance.language = language

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if email_taken(email):
            raise ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def validate_password_for_user(
        self,
        user: User,
        password_field_name: str = "password1",  # noqa: S107 - a field's name
    ) -> None:
        # Django checks the confirmation, where a too-short password's message would
        # sit under the wrong box and, after a mismatch, not be checked at all: check
        # the password itself, so both errors show at once, each under its own field.
        super().validate_password_for_user(user, password_field_name="password1")  # noqa: S106


def check_current_password(user: User, password: str, *, error: ValidationError) -> None:
    """Re-entering the password while logged in: raise `error` when it is wrong,
    and refuse without checking once the account has too many wrong ones
    (throttle.PASSWORD_CHECK_PER_ACCOUNT). A blank one is no guess: not counted."""
    account = throttle.account_key(user.pk)
    wait = throttle.PASSWORD_CHECK_PER_ACCOUNT.retry_after(account)
    if wait:
        raise ValidationError(throttle.too_many_attempts_message(wait), code=throttle.THROTTLED)
    if not password or not user.check_password(password):
        if password:
            throttle.PASSWORD_CHECK_PER_ACCOUNT.hit(account)
        raise error
    throttle.PASSWORD_CHECK_PER_ACCOUNT.reset(account)


class ReauthCodeMixin:
    """Re-authentication for users with two-step verification on (ASVS 7.5.1): a
    `code` field beside the password, checked (and counted, like the code step at
    login) only once the password is right. `reauth_user` is the account."""

    def add_code_field(self, user: User, *, has_app: bool | None = None) -> None:
        self.reauth_user = user
        if has_app is None:
            has_app = authenticator_of(user) is not None
        if has_app:
            self.fields["code"] = reauth_code_field()

    def check_code(self) -> None:
        if "code" not in self.fields or self.has_error("code"):
            return
        try:
            check_reauth_code(self.reauth_user, self.cleaned_data.get("code") or "")
        except ValidationError as error:
            self.add_error("code", error)


class ThrottledLoginMixin:
    """Refuse a login attempt, without checking the password, while its counters
    are over their limit (accounts.throttle.LoginAttempt: the account's, or the
    device's when this browser logged in to it before; and the client's IP);
    count each failure."""

    request = None

    def clean(self):
        identifier = (self.cleaned_data.get("username") or "").strip().lower()
        account_ids = (
            [user.pk for user in login_candidates(self.request, identifier)] if identifier else []
        )
        attempt = throttle.LoginAttempt.of(
            self.request, identifier=identifier, account_ids=account_ids
        )
        wait = attempt.retry_after()
        if wait:
            raise ValidationError(throttle.too_many_attempts_message(wait), code=throttle.THROTTLED)
        try:
            cleaned_data = super().clean()
        except ValidationError:
            attempt.failed()
            raise
        user = self.get_user()
        if user is not None:
            attempt.succeeded(user.pk)
        return cleaned_data


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    remember_me = forms.BooleanField(
        label=_("Keep me logged in for 30 days"),
        required=False,
    )
    error_messages = {
        "invalid_login": INVALID_LOGIN,
        "inactive": INVALID_LOGIN,
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # AuthenticationForm sizes the field for a username (150 characters), but
        # it takes an email address too, which may be up to 254.
        username = self.fields["username"]
        username.max_length = username.widget.attrs["maxlength"] = 254


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class ProfileForm(ReauthCodeMixin, EmailCheckedByCleanEmail, forms.ModelForm):
    diets = codes_field(Diet, label=_("Your diets"))
    allergies = codes_field(
        Allergen,
        label=_("Your allergies"),
        help_text=_("Only the hosts of parties you go to (or wait for) see these."),
    )
    timezone = TimeZoneField(label=_("Time zone"))
    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only when you change your email address."),
    )

    class Meta:
        model = User
        fields = (
            "first_name",
            "last_name",
            "email",
            "diets",
            "allergies",
            "dietary_notes",
            "timezone",
            "language",
        )
        widgets = {"dietary_notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, has_app: bool | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = NEW_ADDRESS_HELP
        self.original_email = self.instance.email
        self.add_code_field(self.instance, has_app=has_app)
        if "code" in self.fields:
            self.fields["code"].help_text = _(
                "Needed only when you change your email address: the 6 digits your "
                "app shows now, or a recovery code."
            )

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if email_taken(email, exclude_pk=self.instance.pk):
            raise ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email and email.lower() != self.original_email.lower():
            password = cleaned_data.get("current_password") or ""
            # The instance may already carry the new email; check_password does not care.
            try:
                check_current_password(
                    self.instance,
                    password,
                    error=ValidationError(
                        _("Enter your current password to change your email address."),
                        code="password_required",
                    ),
                )
            except ValidationError as error:
                self.add_error("current_password", error)
            else:
                self.check_code()
                # The new address gets a confirmation link: those are rationed.
                account = throttle.account_key(self.instance.pk)
                wait = throttle.CONFIRMATIONS_PER_ACCOUNT.retry_after(account)
                if wait:
                    message = throttle.too_many_attempts_message(wait)
                    self.add_error("email", ValidationError(message, code=throttle.THROTTLED))
        return cleaned_data


class AccountDeleteForm(ReauthCodeMixin, forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To be sure it's you."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.add_code_field(user)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        check_current_password(
            self.user,
            password,
            error=ValidationError(
                _("That's not your current password."), code="password_incorrect"
            ),
        )
        return password

    def clean(self):
        cleaned_data = super().clean()
        if "password" in cleaned_data:  # right: now the code
            self.check_code()
        return cleaned_data


class SessionEndForm(forms.Form):
    """Logging sessions out needs the password again (ASVS 7.5.2), counted like the
    other password checks behind the login."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=MAX_PASSWORD_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To log other sessions out, enter your password."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        check_current_password(
            self.user,
            password,
            error=ValidationError(
                _("That's not your current password."), code="password_incorrect"
            ),
        )
        return password


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, sending nothing to an address that is not confirmed: until it is,
    the only email it gets is its confirmation link (accounts.verification)."""

    def get_users(self, email: str):
        return (user for user in super().get_users(email) if user.email_confirmed)


class PasswordChangeForm(ReauthCodeMixin, auth_forms.PasswordChangeForm):
    """Django's, with the old password checked under the same limit, and a code
    from the app as well when two-step verification is on."""

    def __init__(self, user: User, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.add_code_field(user)
        if "code" in self.fields:  # right after the current password
            order = ["old_password", "code", "new_password1", "new_password2"]
            self.order_fields(order)

    def clean(self):
        cleaned_data = super().clean()
        if "old_password" in cleaned_data:  # right: now the code
            self.check_code()
        return cleaned_data

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        check_current_password(
            self.user,
            old_password,
            error=ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ),
        )
        return old_password
