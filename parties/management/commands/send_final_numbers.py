"""Email the hosts of parties whose reply-by date has passed their final numbers.
Meant for cron (e.g. every 15 minutes) beside the worker, which sends them at the
deadline itself on the database queue: this catches up on whatever is due and
not yet sent. Each party's hosts get them once (parties/deadline.py)."""

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from parties import deadline


class Command(BaseCommand):
    help = "Send the final numbers of parties past their reply-by date (each party once)."

    def handle(self, *args, **options) -> None:
        sent = deadline.send_due()
        self.stdout.write(
            ngettext(
                "Sent final numbers for %(n)d party.", "Sent final numbers for %(n)d parties.", sent
            )
            % {"n": sent}
        )
