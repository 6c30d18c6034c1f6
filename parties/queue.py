"""The task queue's housekeeping (django-tasks-db's table): tasks a dead worker
left running are put back, finished ones pruned after a while, the queue's state
summed up for operators, and one log line written per task the worker runs."""

import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.dispatch import receiver
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from dinnerparty.middleware import request_id_var
from parties.notifications import current_task_id, current_task_keys, current_task_rerun

logger = logging.getLogger(__name__)


def default_lease() -> timedelta:
    """How long a task may stay marked running before it counts as abandoned (its
    worker died): `TASK_LEASE_SECONDS`, 5 minutes by default. An email takes
    seconds (the SMTP timeout is 10 s). The worker sweeps for them."""
    return timedelta(seconds=settings.TASK_LEASE_SECONDS)


def requeue_stale_tasks(*, lease: timedelta | None = None, now: datetime | None = None) -> int:
    """Put tasks left RUNNING for longer than `lease` back in the queue, to run
    again (email tasks check what they already sent). Returns how many."""
    now = now or timezone.now()
    lease = lease if lease is not None else default_lease()
    stale = DBTaskResult.objects.running().filter(started_at__lt=now - lease)
    return stale.update(status="READY", started_at=None)


def prune_finished_tasks(*, keep: timedelta | None = None, now: datetime | None = None) -> int:
    """Delete the rows of tasks that finished (successfully or not) more than
    `keep` ago (`TASK_RESULTS_KEEP_DAYS`, 7 by default): each email's fate stays
    in `EmailDelivery`. Returns how many went."""
    now = now or timezone.now()
    keep = keep if keep is not None else timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    old = DBTaskResult.objects.finished().filter(finished_at__lt=now - keep)
    deleted, _ = old.delete()
    return deleted


# --- one line per task, with the id of the request that queued it ------------------
# Only for tasks a worker runs from the queue's table: on the immediate backend the
# task runs inside the request, whose own lines already carry its id.


@receiver(task_started, dispatch_uid="parties-queue-task-started")
def task_started_in_worker(sender, task_result, **kwargs) -> None:
    db_result = getattr(task_result, "db_result", None)
    if db_result is not None:
        request_id_var.set(str(db_result.args_kwargs.get("request_id") or "-"))
        current_task_id.set(str(task_result.id))
        # Claimed by this worker only: its first run (a worker that gives back
        # tasks it claimed but did not start takes its id off them, parties.worker).
        current_task_rerun.set(len(db_result.worker_ids) > 1)
        current_task_keys.set(set())


@receiver(task_finished, dispatch_uid="parties-queue-task-finished")
def task_finished_in_worker(sender, task_result, **kwargs) -> None:
    db_result = getattr(task_result, "db_result", None)
    if db_result is None:
        return
    duration = (
        (db_result.finished_at - db_result.started_at).total_seconds()
        if db_result.finished_at and db_result.started_at
        else 0.0
    )
    outcome = task_result.status
    if isinstance(db_result.return_value, str):
        outcome = f"{outcome}:{db_result.return_value}"
    failed = task_result.status == "FAILED"
    logger.log(
        logging.ERROR if failed else logging.INFO,
        "task=%s id=%s outcome=%s duration=%.3fs",
        db_result.task_path,
        task_result.id,
        outcome,
        duration,
        # The signal is sent inside the worker's exception handler.
        exc_info=sys.exc_info() if failed and sys.exc_info()[0] else None,
    )
    request_id_var.set("-")
    current_task_id.set("")
    current_task_rerun.set(True)
    current_task_keys.set(None)


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
