"""The task worker: `task_worker` (django-tasks-db's `db_worker`, claiming tasks
in batches: parties/worker.py) in child processes, one per core by default
(`--processes`, `TASK_WORKER_PROCESSES`), with the
sweep for tasks a dead worker left running (`requeue_stale_tasks`) and for old
finished ones (`prune_finished_tasks`) at start and every minute. `make run`
starts it beside the server; `make worker` in production. With TASKS_BACKEND=rq it
runs django-rq's `rqworker` instead. Ctrl-C or SIGTERM stops
the worker gracefully (it finishes the task it is on)."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.tasks import task_backends
from django_tasks_db import DatabaseBackend

from parties.management.commands.task_worker import positive
from parties.queue import prune_finished_tasks, requeue_stale_tasks


class WorkerPool:
    """`count` copies of the task_worker `command`, each a process of its own:
    one Python process runs on one core at a time, and sending an email is mostly
    Python (rendering, MIME), so one per core. They share nothing but the queue's
    table (each claims its own tasks: parties/worker.py).

    One that dies while the pool is not stopping (killed, crashed) is started
    again: the tasks it held go back to the queue after the lease (the sweep).
    One that exits with an error within `QUICK` seconds of its start is failing to
    start (e.g. a database that refuses it): the pool stops rather than retry it
    forever, and exits with its code, for systemd or honcho to report."""

    POLL = 0.2  # seconds between looks at the processes
    QUICK = 10.0

    def __init__(self, command: list[str], count: int, stderr) -> None:
        self.command = command
        self.stderr = stderr
        self.stopping = False
        self.exit_code = 0
        self.processes = [self.start() for _ in range(count)]

    def start(self) -> tuple[subprocess.Popen, float]:
        return subprocess.Popen(self.command), time.monotonic()  # noqa: S603 (our own)

    def watch(self) -> bool:
        """Start again the processes that died; False once all have stopped."""
        for i, (process, started) in enumerate(self.processes):
            code = process.poll()
            if code is None or self.stopping:
                continue
            if code > 0 and time.monotonic() - started < self.QUICK:
                self.stderr.write(f"A task worker exited at its start ({code}): stopping.")
                self.exit_code = code
                self.stop()
            elif code != 0:  # (0: a stop it was sent, e.g. a Ctrl-C reaching it first)
                self.stderr.write(f"A task worker exited ({code}): starting another.")
                self.processes[i] = self.start()
        return any(process.poll() is None for process, _ in self.processes)

    def stop(self) -> None:
        """Ask each process to stop after the task it is on (once: a second signal
        stops a task_worker at once, mid-task)."""
        if self.stopping:
            return  # e.g. honcho's SIGTERM after the terminal's Ctrl-C reached them
        self.stopping = True
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        for process, _ in self.processes:
            process.wait()


class Command(BaseCommand):
    help = "Run the task worker (task_worker), re-queueing stale tasks at start and every minute."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--sweep-every", type=float, default=60, help="Seconds between sweeps (default 60)."
        )
        parser.add_argument(
            "--processes",
            type=positive,
            default=None,
            help="task_worker processes (default: TASK_WORKER_PROCESSES, one per core).",
        )
        parser.add_argument(
            "--interval",
            default="1",
            help="Seconds the worker waits when the queue is empty (default 1).",
        )

    def handle(
        self, *args, sweep_every: float, interval: str, processes: int | None, **options
    ) -> None:
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
        command = [
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
        pool = WorkerPool(command, processes or settings.TASK_WORKER_PROCESSES, self.stderr)
        # A SIGTERM (systemd, honcho) is passed on; a Ctrl-C reaches every process.
        signal.signal(signal.SIGTERM, lambda *_: pool.stop())
        next_sweep = time.monotonic() + sweep_every
        try:
            while pool.watch():
                time.sleep(WorkerPool.POLL)
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + sweep_every
        except KeyboardInterrupt:  # the terminal sent it to every process: wait for them
            pool.stopping = True
            pool.wait()
        sys.exit(pool.exit_code)

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
