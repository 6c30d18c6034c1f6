from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest

from accounts.sessions import user_loaded_with_session


def accounts_named(identifier: str):
    """The accounts whose username or email is `identifier` (lower case, stripped).
    Usernames may contain "@" and ".", so one account's username can be another's
    email address: at most two, each with its own password."""
    return (
        get_user_model()
        ._default_manager.alias(username_ci=Lower("username"), email_ci=Lower("email"))
        .filter(Q(username_ci=identifier) | Q(email_ci=identifier))
        .order_by("pk")[:2]
    )


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
        candidates = list(accounts_named(username.strip().lower()))
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
