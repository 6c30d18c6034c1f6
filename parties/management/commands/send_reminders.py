"""Remind going guests of parties starting in the next 24 hours, and invitees
who haven't answered of a reply-by date (or start) within two days. The worker
does this on its own (a task scheduled for each party, `parties.schedule`); this
is the catch-up, safe to run any time, e.g. from cron or after a spell on the
immediate backend: each guest (and invitee) is reminded once per party, however often it runs,
because each reply (invitation) is claimed with a conditional UPDATE in the transaction that
queues its email."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import ngettext

from parties.schedule import (
    due_reminders,
    due_reply_reminders,
    remind_going_guests,
    remind_unanswered,
)


class Command(BaseCommand):
    help = (
        "Send reminders for parties starting within 24 hours (each guest once), and to "
        "invitees who haven't answered two days before the reply-by date (each once)."
    )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        sent = remind_going_guests(due_reminders(now=now), now=now)
        sent += remind_unanswered(due_reply_reminders(now=now), now=now)
        self.stdout.write(
            ngettext("Sent %(count)d reminder.", "Sent %(count)d reminders.", sent)
            % {"count": sent}
        )
