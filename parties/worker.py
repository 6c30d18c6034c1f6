"""The task worker's loop: django-tasks-db's `Worker`, claiming its tasks in
batches (`TASK_WORKER_CLAIM`, 20 by default) instead of one at a time, and
running a batch on `TASK_WORKER_THREADS` threads (2 when the worker runs one
process, else 1: `manage.py worker` runs a process per core by default).

django-tasks-db's loop takes one task per transaction: a locked SELECT and an
UPDATE to mark it running, then the task. `BatchWorker` takes up to
`TASK_WORKER_CLAIM` due tasks in that one transaction (`SELECT ... FOR UPDATE
SKIP LOCKED LIMIT n` on PostgreSQL; an exclusive transaction on SQLite, as the
library's), marks them all running in one UPDATE, and runs them one by one with
the library's own `run_task` (its signals; a failure saved at once). The
batch's successes are written together at its end, one UPDATE for all of them
(`record_successes`), not a save each. Two workers never hold the same task: a
claimed task is RUNNING, which no worker takes.

With `TASK_WORKER_THREADS` above 1, the batch's tasks are shared among that many
threads of the one process, each with its own database and SMTP connections: an
email spends about a quarter of its time waiting for the mail server's and the
database's replies, and another thread renders and sends meanwhile (the GIL is
free while a thread waits). One thread runs them one by one, as before.

What a batch keeps of the library's guarantees:

- **A worker killed mid-batch**: its claimed tasks, the ones it finished but
  had not yet recorded included, are RUNNING, as the one task the library's loop
  would have left; the sweep (`parties.queue`) puts them back after the lease,
  and email tasks check what they had already sent (`EmailDelivery.task_key`).
- **A stop (SIGTERM, Ctrl-C)**: the task being run finishes; the claimed tasks
  not started are given back at once (READY, as they were).
- **No hoarding**: tasks not started within `HOLD` of their claim (a slow mail
  server) are given back for other workers, long before the lease ends.

It overrides the library's `Worker.run()` (django-tasks-db 0.13): with
`TASK_WORKER_CLAIM=1` the library's own loop runs, untouched.
"""

import contextlib
import json
import random
import signal
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.backends.signals import connection_created
from django.db.models import Case, Value, When
from django.db.utils import OperationalError
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception, retry

from common.sql import constant
from parties.models import BatchedTaskResult
from parties.queue import default_lease

# Tasks claimed but not started this long after their claim go back to the queue.
HOLD = timedelta(seconds=5)

RUNNING, READY, SUCCESSFUL = "RUNNING", "READY", "SUCCESSFUL"


@retry()  # as the library's own result saving: SQLite may be locked a moment
def record_with_retries(rows, **values) -> int:
    return rows.update(**values)


def claim_size() -> int:
    """How many tasks a worker claims at a time (`TASK_WORKER_CLAIM`); 1 runs
    django-tasks-db's own loop."""
    return max(1, int(getattr(settings, "TASK_WORKER_CLAIM", 1)))


def thread_count() -> int:
    """How many threads run a batch's tasks (`TASK_WORKER_THREADS`)."""
    return max(1, int(getattr(settings, "TASK_WORKER_THREADS", 1)))


def make_worker(*, claim: int | None = None, threads: int | None = None, **options) -> Worker:
    """The worker `manage.py task_worker` runs: a `BatchWorker` claiming `claim`
    tasks at a time (`claim_size()` by default) and running them on `threads`
    threads (`thread_count()` by default), or the library's `Worker` for a claim
    of 1. `options` are `Worker`'s own (queue_names, interval, batch, ...)."""
    claim = claim_size() if claim is None else claim
    if claim <= 1:
        return Worker(**options)
    threads = thread_count() if threads is None else threads
    return BatchWorker(claim=claim, threads=threads, **options)


def commit_asynchronously(sender, connection, **kwargs) -> None:
    """PostgreSQL: this worker's commits don't wait for their WAL to reach the
    disk (`synchronous_commit = off`, for its own sessions only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


def use_asynchronous_commits() -> bool:
    """Whether the worker process commits asynchronously on PostgreSQL
    (`TASK_WORKER_ASYNC_COMMIT`, on by default), from its next connection on.

    A commit waits for the disk (an fsync, ~3 ms here) unless it is asynchronous;
    a worker commits 2-3 times per email. Off, PostgreSQL may lose the last
    fraction of a second of the worker's commits if the *database server*
    crashes (never a part of one: the log stays consistent). What that loses is
    the worker's progress, never a task: tasks are queued by the web processes,
    whose commits stay synchronous, so a lost claim or result means the task runs
    again, as after a worker killed mid-task (an email may go twice; none is
    lost). A worker process that dies loses nothing: its commits are done."""
    if not getattr(settings, "TASK_WORKER_ASYNC_COMMIT", False):
        return False
    connection_created.connect(commit_asynchronously, dispatch_uid="parties-worker-async-commit")
    for connection in connections.all(initialized_only=True):
        connection.close()  # reopened with the setting
    return True


class BatchWorker(Worker):
    def __init__(self, *, claim: int, threads: int = 1, **options) -> None:
        self._lock = threading.Lock()
        self._tasks_running = 0
        super().__init__(**options)
        self.claim = claim
        self.threads = max(1, threads)
        self.hold = min(HOLD, default_lease() / 2)
        self._started = 0  # tasks this worker started (for --max-tasks)
        # The other threads live as long as the worker, so each keeps its connections.
        self._helpers = (
            ThreadPoolExecutor(self.threads - 1, thread_name_prefix="task-worker")
            if self.threads > 1
            else None
        )

    # The library's `run_task` sets `running_task` around each task, and its
    # signal handler stops the process at once when no task is running: with
    # several threads, a task is running while any thread runs one.
    @property
    def running_task(self) -> bool:
        return self._tasks_running > 0

    @running_task.setter
    def running_task(self, value: bool) -> None:
        with self._lock:
            self._tasks_running = max(0, self._tasks_running + (1 if value else -1))

    def _ready(self):
        """The due tasks this worker may run, in the library's order (as
        `BatchedTaskResult`s: their successes are written by `record_successes`).
        Its status also as a constant, so the library's partial index on due
        tasks serves the claim once it is a prepared statement (`common.sql`)."""
        tasks = (
            BatchedTaskResult.objects.ready()
            .filter(status=constant(READY))
            .filter(backend_name=self.backend_name)
        )
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def claim_tasks(self) -> tuple[list[DBTaskResult], datetime] | None:
        """Up to `self.claim` due tasks, marked RUNNING for this worker in one
        transaction; None if the database was locked (try again)."""
        tasks = self._ready()
        with exclusive_transaction(tasks.db):
            try:
                batch = list(tasks.select_for_update(skip_locked=True)[: self.claim])
                now = timezone.now()
                for task_result in batch:
                    task_result.status = RUNNING
                    task_result.started_at = now
                    task_result.worker_ids = [*task_result.worker_ids, self.worker_id]
                self._save(DBTaskResult.objects.all(), batch)
            except OperationalError as error:
                if is_locked_database_exception(error):  # as the library: try again
                    return None
                raise
        return batch, now

    def release(self, tasks: list[DBTaskResult], claimed_at: datetime) -> int:
        """Give back claimed tasks not started: READY again, with the worker ids
        they had. Only rows still as this claim left them (not swept meanwhile)."""
        if not tasks:
            return 0
        for task_result in tasks:
            task_result.status = READY
            task_result.started_at = None
            if task_result.worker_ids[-1:] == [self.worker_id]:
                task_result.worker_ids = task_result.worker_ids[:-1]
        mine = DBTaskResult.objects.filter(status=RUNNING, started_at=claimed_at)
        return self._save(mine, tasks)

    @staticmethod
    def _save(rows, tasks: list[DBTaskResult]) -> int:
        """Write the tasks' status, start and worker ids: one UPDATE for the tasks
        that share their worker ids (as a rule, all of them), not one each."""
        groups: dict[str, list[DBTaskResult]] = {}
        for task_result in tasks:
            groups.setdefault(json.dumps(task_result.worker_ids), []).append(task_result)
        updated = 0
        for group in groups.values():
            first = group[0]
            updated += rows.filter(pk__in=[task_result.pk for task_result in group]).update(
                status=first.status, started_at=first.started_at, worker_ids=first.worker_ids
            )
        return updated

    def run(self) -> None:
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # noqa: S311 (a thundering herd, not a secret)
        try:
            self.claim_and_run()
        except BaseException:
            if self._helpers is not None:  # e.g. stopped by a signal: don't wait for them
                if signal.getsignal(signal.SIGTERM) == self.shutdown:
                    # A second signal while the other threads end (Ctrl-C sends
                    # SIGINT, then `make run` SIGTERM) stops the process as it
                    # would have anyway, not with a traceback from the handler.
                    self.reset_signals()
                self._helpers.shutdown(wait=False, cancel_futures=True)
            raise
        self.stop_helpers()

    def claim_and_run(self) -> None:
        while self.running:
            close_old_connections()
            claimed = self.claim_tasks()
            batch = claimed[0] if claimed else []
            if batch:
                self.run_batch(*claimed)
            elif self.batch and claimed is not None:
                return  # --batch: the queue is empty
            if self.max_tasks is not None and self._started >= self.max_tasks:
                return
            close_old_connections()
            if self.running and not batch:
                time.sleep(self.interval)

    def stop_helpers(self) -> None:
        """Close the other threads' database connections, and end the threads."""
        if self._helpers is None:
            return
        count = self.threads - 1
        each_once = threading.Barrier(count, timeout=5)  # so every thread takes one

        def close() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                each_once.wait()
            connections.close_all()

        for _ in range(count):
            self._helpers.submit(close)
        self._helpers.shutdown(wait=True)

    def run_batch(self, batch: list[DBTaskResult], claimed_at: datetime) -> None:
        waiting = deque(batch)
        succeeded: list[DBTaskResult] = []

        def next_task() -> DBTaskResult | None:
            with self._lock:
                if not waiting or not self.running:
                    return None
                if self.max_tasks is not None and self._started >= self.max_tasks:
                    return None
                if len(waiting) < len(batch) and timezone.now() - claimed_at > self.hold:
                    return None  # held too long: let other workers have the rest
                self._started += 1
                return waiting.popleft()

        def run_tasks() -> None:
            while (task_result := next_task()) is not None:
                self.run_task(task_result)
                if task_result.status == SUCCESSFUL:
                    with self._lock:
                        succeeded.append(task_result)

        try:
            others = [
                self._helpers.submit(self._in_helper, run_tasks)
                for _ in range(self.threads - 1)
                if self._helpers is not None and len(batch) > 1
            ]
            run_tasks()
            for other in others:
                other.result()
        finally:
            # Stopped (a signal, --max-tasks) or held too long: give the rest back.
            # (Also on SystemExit from the library's signal handler between tasks,
            # which only this thread receives: a task another thread is running
            # then stays RUNNING, for the sweep, as when the process is killed.)
            with self._lock:
                unstarted = list(waiting)
                waiting.clear()
                done = list(succeeded)
            self.release(unstarted, claimed_at)
            self.record_successes(done, claimed_at)

    @staticmethod
    def _in_helper(run_tasks) -> None:
        """`run_tasks` on one of the other threads, checking its database
        connection before and after, as the main loop does for its own."""
        close_old_connections()
        try:
            run_tasks()
        finally:
            close_old_connections()

    @staticmethod
    def record_successes(tasks: list[DBTaskResult], claimed_at: datetime) -> int:
        """Write the batch's successes (`BatchedTaskResult.set_successful` noted
        them): one UPDATE per return value (as a rule, one), each task's own
        `finished_at` by a CASE. Only rows still as this claim left them.

        Until then they read RUNNING: a worker killed before this line leaves
        them to the sweep, whose re-run finds each email already sent
        (`notifications.send`), as for a task killed mid-way."""
        groups: dict[str, list[DBTaskResult]] = {}
        for task_result in tasks:
            groups.setdefault(json.dumps(task_result.return_value), []).append(task_result)
        updated = 0
        for group in groups.values():
            finished_at = Case(
                *(
                    When(pk=task_result.pk, then=Value(task_result.finished_at))
                    for task_result in group
                ),
                output_field=DBTaskResult._meta.get_field("finished_at"),
            )
            mine = DBTaskResult.objects.filter(status=RUNNING, started_at=claimed_at)
            updated += record_with_retries(
                mine.filter(pk__in=[task_result.pk for task_result in group]),
                status=SUCCESSFUL,
                finished_at=finished_at,
                return_value=group[0].return_value,
                exception_class_path="",
                traceback="",
            )
        return updated
