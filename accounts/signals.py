"""`last_login` kept as Django keeps it, without writing it twice.

Django's `update_last_login` (connected by django.contrib.auth) saves the time of
every login. An account made by the same request that logs it in (a guest
account made by a reply's emailed link: parties.services) is inserted with that
time already, and says so (`last_login_recorded`): its login skips the UPDATE.
Every other login goes through Django's receiver unchanged.
"""

from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in

DJANGO_UID = "update_last_login"  # the dispatch_uid django.contrib.auth connects it with


def record_last_login(sender, user, **kwargs) -> None:
    if getattr(user, "last_login_recorded", False) and user.last_login is not None:
        return
    update_last_login(sender, user, **kwargs)


def use_recorded_last_login() -> None:
    """Put `record_last_login` in the place of Django's receiver (same uid), if
    Django connected one (it does when the user model has `last_login`)."""
    if user_logged_in.disconnect(dispatch_uid=DJANGO_UID):
        user_logged_in.connect(record_last_login, dispatch_uid=DJANGO_UID)
