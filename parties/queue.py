"""The task queue's housekeeping (django-tasks-db's table): tasks a dead worker
left running are put back, and the queue's state is summed up for operators."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

# A task still marked running this long after it started has lost its worker (an
# email takes seconds: the SMTP timeout is 10 s). The worker sweeps for them.
LEASE = timedelta(minutes=5)


def requeue_stale_tasks(*, lease: timedelta = LEASE, now: datetime | None = None) -> int:
    """Put tasks left RUNNING for longer than `lease` back in the queue, to run
    again (email tasks check what they already sent). Returns how many."""
    now = now or timezone.now()
    stale = DBTaskResult.objects.running().filter(started_at__lt=now - lease)
    return stale.update(status="READY", started_at=None)


@dataclass(frozen=True)
class QueueStatus:
    waiting: int  # due now
    scheduled: int  # waiting for their time (retries, reminders)
    running: int
    oldest_waiting_age: timedelta | None
    failed_last_24h: int


def queue_status(*, now: datetime | None = None) -> QueueStatus:
    now = now or timezone.now()
    tasks = DBTaskResult.objects
    due = tasks.ready()
    oldest = due.aggregate(oldest=Min("enqueued_at"))["oldest"]
    return QueueStatus(
        waiting=due.count(),
        scheduled=tasks.filter(status="READY", run_after__gt=now)
        .exclude(run_after=get_date_max())
        .count(),
        running=tasks.running().count(),
        oldest_waiting_age=now - oldest if oldest else None,
        failed_last_24h=tasks.failed().filter(finished_at__gte=now - timedelta(hours=24)).count(),
    )
