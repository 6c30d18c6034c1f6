"""Put back in the queue tasks a dead worker left running (`manage.py worker`
runs this at start and every minute)."""

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from parties.queue import requeue_stale_tasks


class Command(BaseCommand):
    help = "Re-queue tasks left running for longer than the lease (TASK_LEASE_SECONDS, 5 min)."

    def handle(self, *args, **options) -> None:
        count = requeue_stale_tasks()
        self.stdout.write(
            ngettext("Re-queued %(count)d stale task.", "Re-queued %(count)d stale tasks.", count)
            % {"count": count}
        )
