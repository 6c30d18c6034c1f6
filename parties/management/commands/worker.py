"""The task worker: `task_worker` (django-tasks-db's `db_worker`, claiming tasks
in batches: parties/worker.py) in a child process, with the
sweep for tasks a dead worker left running (`requeue_stale_tasks`) and for old
finished ones (`prune_finished_tasks`) at start and every minute. `make run`
starts it beside the server; `make worker` in production. With TASKS_BACKEND=rq it
runs django-rq's `rqworker` instead. Ctrl-C or SIGTERM stops
the worker gracefully (it finishes the task it is on)."""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

from parties.queue import prune_finished_tasks, requeue_stale_tasks


class Command(BaseCommand):
    help = "Run the task worker (task_worker), re-queueing stale tasks at start and every minute."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--sweep-every", type=float, default=60, help="Seconds between sweeps (default 60)."
        )
        parser.add_argument(
            "--interval",
            default="1",
            help="Seconds the worker waits when the queue is empty (default 1).",
        )

    def handle(self, *args, sweep_every: float, interval: str, **options) -> None:
        backend = task_backends["default"]
        if not isinstance(backend, DatabaseBackend):
            if type(backend).__module__.startswith("django_tasks_rq"):
                self.run_rq_worker()
                return
            raise CommandError(
                "TASKS_BACKEND=immediate runs each task in the web process: no worker "
                "to start. Unset it (the database queue) or set it to rq."
            )
        self.sweep()
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "task_worker",  # db_worker, claiming tasks in batches (parties/worker.py)
                "--queue-name=default",
                f"--interval={interval}",
                "--no-reload",
                # Its own two lines per task (django.tasks) off: `parties.queue`
                # logs one per task, with its outcome, duration and request id.
                "--verbosity=0",
            ]
        )
        # A SIGTERM (systemd, honcho) is passed on; a Ctrl-C reaches both processes.
        signal.signal(signal.SIGTERM, lambda *_: worker.send_signal(signal.SIGTERM))
        try:
            while worker.poll() is None:
                try:
                    worker.wait(timeout=sweep_every)
                except subprocess.TimeoutExpired:
                    self.sweep()
        except KeyboardInterrupt:
            worker.wait()
        # Stopped by a signal we (or the terminal) sent it: a clean stop.
        sys.exit(0 if worker.returncode < 0 else worker.returncode)

    def run_rq_worker(self) -> None:
        """TASKS_BACKEND=rq: django-rq's worker, with django-tasks-rq's job class (so
        it runs django.tasks tasks) and RQ's scheduler (so delayed tasks, retries
        and reminders, are moved to the queue when due). RQ itself deals with jobs
        a dead worker left (its StartedJobRegistry); there is no table to sweep."""
        call_command("rqworker", "default", job_class="django_tasks_rq.Job", with_scheduler=True)

    def sweep(self) -> None:
        if count := requeue_stale_tasks():
            self.stderr.write(f"Re-queued {count} task(s) a stopped worker left running.")
        if count := prune_finished_tasks():
            self.stderr.write(f"Deleted {count} finished task(s) older than the keep period.")
