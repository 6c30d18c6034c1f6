"""Nothing lost when a worker dies: a real `manage.py worker` process, killed with
SIGKILL in the middle of sending an email, and another started after it. The
task runs once more (after the lease, `TASK_LEASE_SECONDS`) and the email
arrives exactly once. Runs on the test database (a SQLite file, or PostgreSQL
with DATABASE_URL), which the worker processes share with the test."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from dinnerparty.tests.helpers import SETTINGS_VARIABLES, run_manage
from parties import services
from parties.models import EmailDelivery
from parties.tests.factories import DinnerPartyFactory
from parties.tests.smtp import SinkHandler, free_port, smtp_sink

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def database_url() -> str:
    """The test database, as a DATABASE_URL another process can open."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def worker_env(**more: str) -> dict[str, str]:
    """The environment of a worker process started by a test: the test database,
    the database queue, SMTP to a local sink (its EMAIL_PORT given per start), no
    kept connections, and `more`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="dinnerparty.settings",
        DATABASE_URL=database_url(),
        TASKS_BACKEND="database",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        CONN_MAX_AGE="0",
        **more,
    )
    return env


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `manage.py worker` (and its task_worker children, in a process group
    of their own) against the test database, sending mail to the sink on `port`,
    with a 2-second lease, a sweep every half second and `args`; its output goes
    to worker-N.log in `tmp_path`."""
    workers: list[subprocess.Popen] = []
    env = worker_env(TASK_LEASE_SECONDS="2", EMAIL_TIMEOUT="30", PYTHONUNBUFFERED="1")

    def start(port: int, *args: str, **more_env: str) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(workers)}.log", "w")  # noqa: SIM115
        worker = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "worker", "--sweep-every=0.5", "--interval=0.1", *args],
            cwd=settings.BASE_DIR,
            env={**env, "EMAIL_PORT": str(port), **more_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with its child
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


def one_reply() -> tuple:
    """A guest's reply to a party, and its email task (two emails) in the queue."""
    party = DinnerPartyFactory(seats=4)
    guest = UserFactory()
    services.rsvp_submit(party=party, guest=guest, status="going")
    (task,) = DBTaskResult.objects.all()
    return party, guest, task


def test_a_worker_killed_mid_send_is_replaced_and_each_email_arrives_once(task_queue, start_worker):
    """The task sends two emails (the guest's confirmation, then the host's note);
    the worker dies while the mail server holds the second. The re-run sends the
    second and not the first again."""
    party, guest, task = one_reply()

    handler = SinkHandler(stall_on=2)
    with smtp_sink(handler) as port:
        first = start_worker(port)
        assert handler.stalled.wait(timeout=60), "the first worker never reached the SMTP server"
        assert handler.accepted == [[guest.email]]
        task.refresh_from_db()
        assert task.status == "RUNNING"

        os.killpg(first.pid, signal.SIGKILL)  # the machine dies: worker and child
        first.wait(timeout=10)
        task.refresh_from_db()
        assert task.status == "RUNNING"  # left behind, as a dead worker leaves it

        start_worker(port)
        wait_for(
            lambda: DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL",
            seconds=60,
            what="the second worker to run the task",
        )
        time.sleep(1)  # nothing more arrives

    task.refresh_from_db()
    assert len(task.worker_ids) == 2  # claimed by each worker in turn
    assert handler.accepted == [[guest.email], [party.host.email]]
    assert sorted(EmailDelivery.objects.values_list("template", "status", "attempts")) == [
        ("rsvp_confirmation", "sent", 1),
        ("rsvp_host_note", "sent", 1),
    ]


def task_workers(worker: subprocess.Popen) -> list[int]:
    """The pids of the task_worker processes `worker` (its pool) runs now."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_pool_starts_another_process_when_one_is_killed_mid_send(
    task_queue, start_worker, tmp_path
):
    """Only the task_worker process dies (the OOM killer, a kill -9): its pool
    starts another, which runs the task again after the lease."""
    party, guest, task = one_reply()

    handler = SinkHandler(stall_on=2)
    with smtp_sink(handler) as port:
        pool = start_worker(port, "--processes=1")
        assert handler.stalled.wait(timeout=60), "the worker never reached the SMTP server"
        (first,) = task_workers(pool)

        os.kill(first, signal.SIGKILL)
        wait_for(
            lambda: DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL",
            seconds=60,
            what="the pool's new process to run the task",
        )
        (second,) = task_workers(pool)
        time.sleep(1)  # nothing more arrives

    assert second != first
    assert pool.poll() is None  # the pool went on
    assert handler.accepted == [[guest.email], [party.host.email]]
    log = (tmp_path / "worker-0.log").read_text()
    assert "A task worker exited (-9): starting another." in log


def test_two_processes_share_the_queue_and_each_email_arrives_once(task_queue, start_worker):
    party = DinnerPartyFactory(seats=20)
    guests = UserFactory.create_batch(8)
    for guest in guests:
        services.rsvp_submit(party=party, guest=guest, status="going")

    handler = SinkHandler()
    with smtp_sink(handler) as port:
        pool = start_worker(port, "--processes=2")
        wait_for(lambda: len(task_workers(pool)) == 2, seconds=30, what="two processes")
        wait_for(
            lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(),
            seconds=60,
            what="every task to run",
        )
        time.sleep(0.5)  # nothing more arrives
        children = task_workers(pool)
        pool.send_signal(signal.SIGTERM)  # systemd's stop
        assert pool.wait(timeout=30) == 0

    sent = sorted(tuple(recipients) for recipients in handler.accepted)
    expected = sorted([(guest.email,) for guest in guests] + [(party.host.email,)] * 8)
    assert sent == expected  # each email once: no task ran in both processes
    for pid in children:  # each stopped with its pool
        assert not Path(f"/proc/{pid}").exists() or "Z" in stat_of(pid)


def stat_of(pid: int) -> str:
    """A process's state letter ("Z": exited, not yet reaped)."""
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]


def test_a_pool_whose_processes_cannot_start_stops_with_their_error(start_worker, tmp_path):
    pool = start_worker(free_port(), "--processes=2", "--interval=soon")

    assert pool.wait(timeout=60) == 2  # argparse's code, from task_worker
    log = (tmp_path / "worker-0.log").read_text()
    assert "argument --interval: invalid" in log
    assert "A task worker exited at its start (2): stopping." in log


def test_the_rq_backend_without_redis_stops_with_a_clear_message():
    result = run_manage("check", env={"TASKS_BACKEND": "rq"})

    assert result.returncode != 0
    assert "Configuration error: TASKS_BACKEND=rq needs REDIS_URL." in result.stderr
    assert "Traceback" not in result.stderr


def test_the_worker_on_the_immediate_backend_says_there_is_nothing_to_start():
    result = run_manage("worker", env={"TASKS_BACKEND": "immediate"})

    assert result.returncode != 0
    assert "TASKS_BACKEND=immediate runs each task in the web process" in result.stderr
