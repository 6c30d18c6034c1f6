"""How the task queue is doing: what waits, for how long, and what failed."""

from django.core.management.base import BaseCommand

from parties.models import EmailDelivery
from parties.queue import queue_status


class Command(BaseCommand):
    help = "Queue depth, the oldest waiting task's age, failures in the last 24 hours."

    def handle(self, *args, **options) -> None:
        status = queue_status()
        age = status.oldest_waiting_age
        self.stdout.write(f"waiting: {status.waiting}")
        self.stdout.write(f"scheduled for later: {status.scheduled}")
        self.stdout.write(f"running: {status.running}")
        self.stdout.write(
            "oldest waiting: " + (f"{int(age.total_seconds())} s" if age is not None else "-")
        )
        self.stdout.write(f"failed tasks (24 h): {status.failed_last_24h}")
        self.stdout.write(
            f"failed emails (24 h): {EmailDelivery.objects.failed_recently().count()}"
        )
