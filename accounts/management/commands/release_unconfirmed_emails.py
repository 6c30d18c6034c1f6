from django.core.management.base import BaseCommand

from accounts import verification
from accounts.models import UNCONFIRMED_EMAIL_KEPT_FOR


class Command(BaseCommand):
    help = (
        f"Release the email addresses left unconfirmed for more than "
        f"{UNCONFIRMED_EMAIL_KEPT_FOR.days} days, so others may sign up with them (the "
        "accounts stay, without an address). Sign-up releases one it needs anyway; run "
        "this from cron to release them all."
    )

    def handle(self, *args, **options) -> None:
        released = verification.release_stale_addresses()
        noun = "address" if released == 1 else "addresses"
        self.stdout.write(f"Released {released} unconfirmed email {noun}.")
