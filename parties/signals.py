"""Keep cached party pages right when a change comes from outside parties/services.py."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from parties import services

NAME_FIELDS = {"username", "first_name", "last_name"}


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="parties-guest-renamed")
def user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """A guest's name is in the cached guest lists (profile page, admin)."""
    if created or (update_fields is not None and not NAME_FIELDS & set(update_fields)):
        return
    services.guest_renamed(user=instance)
