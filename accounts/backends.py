from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.sessions import user_loaded_with_session


def accounts_named(identifier: str):
    """The accounts whose username or email is `identifier` (lower case, stripped).
    Usernames may contain "@" and ".", so one account's username can be another's
    email address: at most two, each with its own password. Each comes with
    `has_authenticator` (two-step verification on), which a login needs next.

    Two lookups in one statement (UNION), each by its unique index (Lower of the
    username; Lower of the email, where there is one): joined by OR in one
    filter, PostgreSQL read every account instead."""
    accounts = (
        get_user_model()
        ._default_manager.annotate(
            has_authenticator=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        )
        .order_by()
    )
    by_username = accounts.alias(username_ci=Lower("username")).filter(username_ci=identifier)
    by_email = accounts.alias(email_ci=Lower("email")).filter(email_ci=identifier).exclude(email="")
    return by_username.union(by_email).order_by("pk")[:2]


def login_candidates(request: HttpRequest | None, identifier: str) -> list:
    """`accounts_named(identifier)`, read once per login request: the login throttle
    (accounts.forms.ThrottledLoginMixin) and the backend both need the rows."""
    memo = getattr(request, "_login_candidates", None)
    if memo is not None and memo[0] == identifier:
        return memo[1]
    users = list(accounts_named(identifier))
    if request is not None:
        request._login_candidates = (identifier, users)
    return users


class EmailOrUsernameBackend(ModelBackend):
    """Log in with a username or an email address, in any letter case."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        candidates = login_candidates(request, username.strip().lower())
        if not candidates:
            # Run the hasher anyway so response time does not reveal whether
            # the account exists (as ModelBackend does).
            get_user_model()().set_password(password)
            return None
        for user in candidates:
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
        return None

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        """As ModelBackend.get_user: the user the request's session was read with
        (`accounts.sessions`, the same row as `user_id`'s), else loaded by id.
        Django then checks the session's auth hash against it."""
        try:
            pk = int(user_id)
        except (TypeError, ValueError, OverflowError):
            return None
        user = user_loaded_with_session(pk)
        if user is None:
            try:
                user = get_user_model()._default_manager.get(pk=pk)
            except get_user_model().DoesNotExist:
                return None
        return user if self.user_can_authenticate(user) else None
