import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.sessions import user_loaded_with_session
from common.sql import constant


@functools.cache
def _accounts_for_login() -> QuerySet:
    """Every account, with the lower-case names a login compares and whether it has
    two-step verification on: built (its subquery resolved) once per process, and
    only ever filtered, which copies it, never evaluated itself. Resolving the
    subquery again on each login was a third of a login's work besides the hash."""
    return (
        get_user_model()
        ._default_manager.alias(username_ci=Lower("username"), email_ci=Lower("email"))
        .annotate(
            has_authenticator=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        )
        .order_by()
    )


def accounts_named(identifier: str) -> QuerySet:
    """The accounts whose username or email is `identifier` (lower case, stripped).
    Usernames may contain "@" and ".", so one account's username can be another's
    email address: at most two (both are unique), each with its own password.
    Each comes with `has_authenticator` (two-step verification on), which a login
    needs next.

    Each side of the OR is one of the unique indexes (Lower of the username; Lower
    of the email, where there is one, hence the `email <> ''`), so PostgreSQL reads
    the two index entries, not every account. Unordered: with ORDER BY and LIMIT
    it walked the primary key through every account instead."""
    return _accounts_for_login().filter(
        Q(username_ci=identifier) | (Q(email_ci=identifier) & ~Q(email=constant("")))
    )


def login_candidates(request: HttpRequest | None, identifier: str) -> list:
    """`accounts_named(identifier)`, read once per login request: the login throttle
    (accounts.forms.ThrottledLoginMixin) and the backend both need the rows."""
    memo = getattr(request, "_login_candidates", None)
    if memo is not None and memo[0] == identifier:
        return memo[1]
    users = sorted(accounts_named(identifier), key=lambda user: user.pk)
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
