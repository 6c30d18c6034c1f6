"""Email going guests of parties starting in the next 24 hours. Meant for cron
(e.g. every 15 minutes); each guest gets one reminder per party, however often
it runs, because each RSVP is claimed with a conditional UPDATE before sending."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from parties import notifications
from parties.models import RSVP, RSVPStatus

WINDOW = timedelta(hours=24)


class Command(BaseCommand):
    help = "Send reminders for parties starting within 24 hours (each guest once)."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        due = RSVP.objects.filter(
            status=RSVPStatus.GOING,
            reminder_sent_at__isnull=True,
            party__starts_at__gt=now,
            party__starts_at__lte=now + WINDOW,
        ).values_list("pk", flat=True)
        sent = 0
        for rsvp_id in due.iterator():
            # Claim it first: a second run (or a parallel one) finds nothing to do.
            # The claim and the queued email commit together (or neither does).
            with transaction.atomic():
                claimed = RSVP.objects.filter(pk=rsvp_id, reminder_sent_at__isnull=True).update(
                    reminder_sent_at=now
                )
                if claimed:
                    notifications.enqueue(notifications.send_reminder_email, rsvp_id)
                    sent += 1
        self.stdout.write(
            ngettext("Sent %(count)d reminder.", "Sent %(count)d reminders.", sent)
            % {"count": sent}
        )
