"""django-tasks-db's `db_worker` with `parties.worker`'s loop: tasks claimed
`--claim` at a time (`TASK_WORKER_CLAIM`, 20 by default; 1 runs the library's
own loop) and run on `--threads` threads (`TASK_WORKER_THREADS`). The same
options as `db_worker` otherwise. `manage.py worker` runs one per core
(`TASK_WORKER_PROCESSES`), beside the sweep."""

import os
from argparse import ArgumentParser, ArgumentTypeError

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from parties.worker import make_worker, use_asynchronous_commits


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError("must be a whole number") from None
    if number < 1:
        raise ArgumentTypeError("must be 1 or more")
    return number


class Command(db_worker.Command):
    help = "Run the database task worker, claiming tasks in batches (--claim)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--claim",
            type=positive,
            default=None,
            help="Tasks claimed at a time (default: TASK_WORKER_CLAIM; 1: db_worker's loop).",
        )
        parser.add_argument(
            "--threads",
            type=positive,
            default=None,
            help="Threads that run a claimed batch (default: TASK_WORKER_THREADS).",
        )

    def handle(  # as db_worker's, with make_worker() for its Worker
        self,
        *,
        verbosity: int,
        queue_name: str,
        exclude_queues: str,
        reload: bool,
        batch: bool,
        claim: int | None = None,
        threads: int | None = None,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        if reload and batch:
            reload = False  # db_worker warns; --batch wins
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        use_asynchronous_commits()
        worker = make_worker(
            claim=claim,
            threads=threads,
            queue_names=queue_names,
            excluded_queue_names=excluded,
            batch=batch,
            interval=options["interval"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the reloader's child
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
