"""Worker throughput: how fast one worker empties the database queue into a
local SMTP server. Target: >= 200 emails per second (issue 19, item 8).

    .venv/bin/python -m bench.mail [--emails 1000] [--database-url URL] [--compare N]

Queues `--emails` RSVP confirmations (the site's most frequent email: one task
each, rendered and sent by the worker, with its `EmailDelivery` record) in a fresh
SQLite database under var/bench/ (or the PostgreSQL database `--database-url`
names, which it migrates, empties and vacuums first: with autovacuum off, as on
the CI machine, every earlier run's dead task rows stay in the claim's index,
and after a day of runs each claim took ~100 ms), runs one worker as `manage.py
worker` runs it (`TASK_WORKER_PROCESSES` processes of `manage.py task_worker`, one
per core by default; here with `--batch`, so each exits when the queue is empty;
`--processes N` for another count) against an aiosmtpd sink in this process, and
reports emails per second (from the first message the sink accepts to the last),
the whole run's seconds (start-up included), the worker's CPU seconds and its
peak RSS (its processes' peaks, added up). `measure()` returns the same as a dict.

`--compare N` measures N times, alternating, the worker as configured and the
worker with its speed-ups switched off (one process; `TASK_WORKER_CLAIM=1`:
django-tasks-db's own loop, one thread; `TASK_WORKER_ASYNC_COMMIT=0`), and prints
each run and the medians: on a shared machine only figures taken side by side
compare.
"""

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.serve import RssSampler

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var" / "bench"
TARGET_PER_SECOND = 200

QUEUE_SCRIPT = """
import django
django.setup()
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult
from parties.models import EmailDelivery
from parties.notifications import send_rsvp_emails

DBTaskResult.objects.all().delete()
EmailDelivery.objects.all().delete()
if connection.vendor == "postgresql":
    # What autovacuum would have done by now (this machine's PostgreSQL runs
    # without it): each run leaves its tasks' dead rows, and the claim would walk
    # every earlier run's entries in the due-tasks index before reaching its own.
    with connection.cursor() as cursor:
        for model in (DBTaskResult, EmailDelivery):
            cursor.execute(f"VACUUM ANALYZE {{model._meta.db_table}}")
with transaction.atomic():
    for n in range({emails}):
        send_rsvp_emails.enqueue(
            {{
                "guest_name": f"Guest {{n}}",
                "guest_email": f"guest{{n}}@example.com",
                "status": "going",
                "status_label": "Going",
                "plus_ones": n % 3,
                "note": "Bringing bread",
                "title": "Paella night",
                "description": "Ana's dinner party “Paella night” on Sat 12 Dec, 19:00 CET",
                "venue": "12 Rue des Fleurs",
                "main_dish": "Paella",
                "host_name": "Ana",
                "host_email": "",
                "seats_taken": 4,
                "seats": 8,
                "party_url": "http://127.0.0.1:8000/parties/1/",
            }},
            notify_host=False,
        )
"""


class Sink:
    """An SMTP server that accepts everything and notes when each message came."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.times.append(time.perf_counter())
        return "250 OK"


def _env(database_url: str, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dinnerparty.settings",
        DJANGO_ENV="production",  # no DEBUG: no query log, as in production
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="localhost",
        SITE_URL="http://localhost",
        DATABASE_URL=database_url,
        TASKS_BACKEND="database",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("REDIS_URL", None)
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, *args], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    ).stdout


# How many task_worker processes `manage.py worker` runs with this environment.
PROCESSES_SCRIPT = """
import django
django.setup()
from django.conf import settings
print(settings.TASK_WORKER_PROCESSES)
"""


# The worker with its speed-ups switched off (parties/worker.py), for --compare.
SWITCHED_OFF = {
    "TASK_WORKER_CLAIM": "1",
    "TASK_WORKER_ASYNC_COMMIT": "0",
    "TASK_WORKER_THREADS": "1",
    "TASK_WORKER_PROCESSES": "1",
}


def measure(
    *,
    emails: int = 1000,
    database_url: str = "",
    worker_env: dict | None = None,
    processes: int | None = None,
) -> dict:
    """Queue `emails` emails, let one worker (`processes` processes; None: as
    `manage.py worker` would run) send them all; returns emails_per_second,
    seconds (first to last message), total_seconds (worker start to exit),
    worker_peak_rss_mb, emails, sent, database and whether the target was met."""
    from aiosmtpd.controller import Controller

    VAR.mkdir(parents=True, exist_ok=True)
    if not database_url:
        path = VAR / "mail.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"

    sink = Sink()
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {**_env(database_url, port), **(worker_env or {})}
        _run(["manage.py", "migrate", "--noinput"], env)
        _run(["-c", QUEUE_SCRIPT.format(emails=emails)], env)
        processes = processes or int(_run(["-c", PROCESSES_SCRIPT], env))

        started = time.perf_counter()
        workers = [
            subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
                [
                    sys.executable,
                    "manage.py",
                    "task_worker",
                    "--batch",
                    "--interval=0",
                    "--no-startup-delay",
                    "--no-reload",
                    "--verbosity=0",  # as `manage.py worker` runs it: its own line per task
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(processes)
        ]
        pids = [worker.pid for worker in workers]
        sampler = RssSampler(lambda: pids, every=0.1)  # each process's own peak
        sampler.start()
        cpu = 0.0
        for worker in workers:
            _, status, usage = os.wait4(worker.pid, 0)
            worker.returncode = os.waitstatus_to_exitcode(status)
            cpu += usage.ru_utime + usage.ru_stime
        total = time.perf_counter() - started
        rss = list(sampler.stop().peaks.values())
        for worker in workers:
            if worker.returncode != 0:
                raise RuntimeError(f"task_worker failed: {worker.stderr.read().decode()[-2000:]}")
    finally:
        controller.stop()

    times = sorted(sink.times)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    return {
        "emails": emails,
        "sent": len(times),
        "database": database_url.split(":", 1)[0],
        "seconds": round(span, 3),
        "total_seconds": round(total, 3),
        "emails_per_second": round(rate, 1),
        "processes": processes,
        "worker_peak_rss_mb": round(sum(rss), 1),
        "process_peak_rss_mb": round(max(rss), 1),
        # The worker's own CPU time (start-up included): on a shared machine whose
        # other processes take the cores, emails per CPU second is the steadier figure.
        "worker_cpu_seconds": round(cpu, 3),
        "emails_per_cpu_second": round(len(times) / cpu, 1) if cpu else 0.0,
        "target_per_second": TARGET_PER_SECOND,
        "met": len(times) == emails and rate >= TARGET_PER_SECOND,
    }


def summary(result: dict) -> str:
    verdict = "met" if result["met"] else "missed"
    return (
        f"{result['sent']} emails in {result['seconds']} s, "
        f"{result['emails_per_second']}/s (target {TARGET_PER_SECOND}/s: {verdict}), "
        f"{result['emails_per_cpu_second']} per CPU second; whole run "
        f"{result['total_seconds']} s; worker peak RSS {result['worker_peak_rss_mb']} MB"
        + rss_split(result)
    )


def rss_split(result: dict) -> str:
    """How the worker's RSS adds up, when it ran more than one process."""
    count = result.get("processes", 1)
    if count == 1:
        return ""
    return f" ({count} processes, {result['process_peak_rss_mb']} MB at most each)"


def compare(*, rounds: int, emails: int, database_url: str) -> dict:
    """`rounds` runs of each variant, alternating; the median of each figure."""
    runs: dict[str, list[dict]] = {"configured": [], "switched off": []}
    for _ in range(rounds):
        for name, worker_env in (("configured", None), ("switched off", SWITCHED_OFF)):
            result = measure(emails=emails, database_url=database_url, worker_env=worker_env)
            runs[name].append(result)
            print(f"bench.mail {name}: {summary(result)}", flush=True)
    figures = ("emails_per_second", "emails_per_cpu_second", "seconds", "total_seconds")
    figures += ("worker_peak_rss_mb",)
    return {
        name: {figure: statistics.median(r[figure] for r in results) for figure in figures}
        for name, results in runs.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--database-url", default="", help="PostgreSQL (default: SQLite file)")
    parser.add_argument(
        "--compare", type=int, default=0, metavar="N", help="N runs each, speed-ups on and off"
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="default: as `manage.py worker` runs it"
    )
    args = parser.parse_args()
    if args.compare:
        medians = compare(rounds=args.compare, emails=args.emails, database_url=args.database_url)
        print(json.dumps(medians, indent=2))
        return 0 if medians["configured"]["emails_per_second"] >= TARGET_PER_SECOND else 1
    result = measure(emails=args.emails, database_url=args.database_url, processes=args.processes)
    print(json.dumps(result, indent=2))
    print(f"bench.mail: {summary(result)}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
