"""The worker's batch claim (parties/worker.py): tasks claimed several at a
time, given back when not started, never run by two workers; the switch
(`TASK_WORKER_CLAIM`) between it and django-tasks-db's own loop; a batch run on
several threads (`TASK_WORKER_THREADS`); asynchronous commits on PostgreSQL; the
first run of a task not looking for earlier emails."""

import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import services, worker
from parties.models import BatchedTaskResult, EmailDelivery
from parties.notifications import send_party_cancelled_email
from parties.queue import requeue_stale_tasks
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import worker_for_tests
from parties.tests.smtp import smtp_sink
from parties.tests.test_queue_worker_process import wait_for, worker_env


def batch_worker(*, claim: int = 3, **options) -> worker.BatchWorker:
    return worker_for_tests(
        claim=claim,
        threads=options.pop("threads", 1),
        max_tasks=options.pop("max_tasks", None),
        worker_id=options.pop("worker_id", "worker-a"),
    )


@pytest.fixture
def queued(task_queue, monkeypatch):
    """`queued(n)`: n replies, each queuing one email task (to the guest: their
    hosts' addresses are unconfirmed); returns the tasks, oldest first."""
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)

    def queue(count: int) -> list[DBTaskResult]:
        for _ in range(count):
            party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
            services.rsvp_submit(party=party, guest=UserFactory(), status="going")
        return list(DBTaskResult.objects.order_by("enqueued_at"))

    return queue


def statuses() -> list[tuple[str, list[str]]]:
    return list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", "worker_ids"))


# --- the switch -------------------------------------------------------------------------


def test_one_task_per_claim_runs_the_librarys_own_loop_and_more_the_batch_loop(settings):
    settings.TASK_WORKER_CLAIM = 1
    assert type(batch_worker(claim=None)) is Worker
    settings.TASK_WORKER_CLAIM = 20
    made = batch_worker(claim=None)
    assert isinstance(made, worker.BatchWorker)
    assert made.claim == 20
    assert type(batch_worker(claim=1)) is Worker  # --claim=1 overrides the setting


@pytest.mark.django_db
@pytest.mark.parametrize("option", ["claim", "threads"])
@pytest.mark.parametrize("value", ["0", "-3", "two", ""])
def test_the_command_refuses_a_claim_or_threads_that_is_not_a_positive_number(option, value):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=f"--{option}"):
        call_command("task_worker", f"--{option}={value}", "--batch")


def test_the_command_hands_its_claim_and_threads_to_the_worker(task_queue, monkeypatch):
    from django.core.management import call_command

    from parties.management.commands import task_worker

    made: list[dict] = []

    class Recorded:  # the worker the command would run, recorded and not run
        def __init__(self, **options) -> None:
            made.append(options)

        def configure_signals(self) -> None: ...

        def run(self) -> None: ...

    monkeypatch.setattr(task_worker, "make_worker", Recorded)
    monkeypatch.setattr(task_worker, "use_asynchronous_commits", lambda: False)

    call_command("task_worker", "--threads=3", "--claim=5", "--batch")
    call_command("task_worker", "--batch")

    assert [(m["claim"], m["threads"]) for m in made] == [(5, 3), (None, None)]


# --- claiming and giving back -------------------------------------------------------------


@pytest.mark.django_db
def test_a_claim_marks_up_to_n_due_tasks_running_for_this_worker(queued):
    queued(5)

    batch, claimed_at = batch_worker(claim=3).claim_tasks()

    assert len(batch) == 3
    assert statuses() == [("RUNNING", ["worker-a"])] * 3 + [("READY", [])] * 2
    running = DBTaskResult.objects.filter(status="RUNNING")
    assert set(running.values_list("started_at", flat=True)) == {claimed_at}


@pytest.mark.django_db
def test_tasks_claimed_and_not_started_go_back_as_they_were(queued):
    queued(3)
    made = batch_worker(claim=3)
    batch, claimed_at = made.claim_tasks()

    assert made.release(batch[1:], claimed_at) == 2

    assert statuses() == [("RUNNING", ["worker-a"]), ("READY", []), ("READY", [])]
    assert DBTaskResult.objects.filter(status="READY", started_at__isnull=False).count() == 0


@pytest.mark.django_db
def test_giving_back_leaves_alone_a_task_the_sweep_handed_to_another_worker(queued):
    (task,) = queued(1)
    made = batch_worker(claim=2)
    batch, claimed_at = made.claim_tasks()
    # The lease ran out: the sweep put it back and another worker claimed it.
    DBTaskResult.objects.filter(pk=task.pk).update(
        started_at=claimed_at + timedelta(minutes=6), worker_ids=["worker-a", "worker-b"]
    )

    assert made.release(batch, claimed_at) == 0
    assert statuses() == [("RUNNING", ["worker-a", "worker-b"])]


@pytest.mark.django_db
def test_a_worker_stopped_mid_batch_gives_back_what_it_had_not_started(queued, mailoutbox):
    queued(5)

    batch_worker(claim=5, max_tasks=2).run()

    assert len(mailoutbox) == 2
    assert statuses() == [("SUCCESSFUL", ["worker-a"])] * 2 + [("READY", [])] * 3


@pytest.mark.django_db
def test_a_batch_held_past_its_time_is_given_back_and_every_task_still_runs_once(
    queued, mailoutbox, monkeypatch
):
    """A slow mail server: each batch runs one task, the rest go back (here the
    hold is 0 s) and are claimed again, by this worker or another."""
    tasks = queued(4)
    made = batch_worker(claim=4)
    made.hold = timedelta(0)

    made.run()

    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        task.args_kwargs["args"][0]["guest_email"] for task in tasks
    )
    assert statuses() == [("SUCCESSFUL", ["worker-a"])] * 4


# --- a batch on several threads ----------------------------------------------------------


def test_the_thread_count_comes_from_the_setting_unless_given(settings):
    settings.TASK_WORKER_THREADS = 3
    assert worker_for_tests(claim=5, threads=None).threads == 3
    assert worker_for_tests(claim=5, threads=1).threads == 1
    settings.TASK_WORKER_THREADS = 0  # (the setting refuses it; the worker too)
    assert worker_for_tests(claim=5, threads=None).threads == 1


@pytest.fixture
def two_at_once(monkeypatch):
    """Each email waits until another thread is sending one too (or 10 s pass):
    proof that two tasks ran at once. Returns the threads that sent, and whether
    the worker counted a task running while each waited."""
    from parties import notifications

    meeting = threading.Barrier(2, timeout=10)
    seen: dict[str, list] = {"threads": [], "running": []}
    send = notifications.send_message

    def send_together(email) -> None:
        seen["threads"].append(threading.current_thread().name)
        seen["running"].append(made.running_task)
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        send(email)

    monkeypatch.setattr(notifications, "send_message", send_together)
    made = batch_worker(claim=4, threads=2)
    return made, seen


@pytest.mark.django_db(transaction=True)
def test_a_batch_on_two_threads_runs_each_task_once_two_at_a_time(queued, mailoutbox, two_at_once):
    tasks = queued(4)
    made, seen = two_at_once

    made.run()

    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        task.args_kwargs["args"][0]["guest_email"] for task in tasks
    )
    assert statuses() == [("SUCCESSFUL", ["worker-a"])] * 4
    assert len(set(seen["threads"])) == 2  # the worker's own thread and one other
    assert all(seen["running"])
    assert made.running_task is False
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_a_batch_on_two_threads_stops_at_max_tasks_and_gives_back_the_rest(queued, mailoutbox):
    queued(5)

    batch_worker(claim=5, threads=2, max_tasks=2).run()

    assert len(mailoutbox) == 2
    assert sorted(statuses()) == [("READY", [])] * 3 + [("SUCCESSFUL", ["worker-a"])] * 2


@pytest.mark.django_db(transaction=True)
def test_a_batch_on_two_threads_finishes_what_it_started_when_asked_to_stop(queued, mailoutbox):
    """SIGTERM while both threads send: the library's handler sees a task running
    (on either thread), so the worker finishes the two and gives back the rest."""
    queued(6)
    made = batch_worker(claim=6, threads=2)
    from parties import notifications

    sending = threading.Barrier(3, timeout=10)  # the two threads and the test
    stopped = threading.Event()
    send = notifications.send_message

    def send_when_stopped(email) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            sending.wait()
        stopped.wait(timeout=10)
        send(email)

    def run() -> None:
        try:
            made.run()
        finally:
            connections.close_all()  # this thread's: the worker's own thread here

    runner = threading.Thread(target=run)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(notifications, "send_message", send_when_stopped)
        runner.start()
        sending.wait()
        assert made.running_task is True
        made.shutdown(signal.SIGTERM, None)  # as the signal would: no exit, a task runs
        stopped.set()
        runner.join(timeout=20)

    assert not runner.is_alive()
    assert len(mailoutbox) == 2
    assert sorted(statuses()) == [("READY", [])] * 4 + [("SUCCESSFUL", ["worker-a"])] * 2


def test_a_worker_stopping_on_a_signal_leaves_a_second_signal_to_stop_the_process(monkeypatch):
    """Stopped while idle (the library's handler exits at once), the worker ends its
    other threads; a second signal meanwhile (Ctrl-C's SIGINT, then `make run`'s
    SIGTERM) takes the default action instead of raising in the handler again."""
    made = batch_worker(claim=4, threads=2)
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(made, "claim_and_run", lambda: made.shutdown(signal.SIGINT, None))
    try:
        made.configure_signals()
        with pytest.raises(SystemExit):
            made.run()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) == signal.SIG_DFL
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
        if hasattr(signal, "SIGQUIT"):
            signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    with pytest.raises(RuntimeError):  # its other threads were told to end
        made._helpers.submit(print)


# --- a batch's successes written together ------------------------------------------------


def task_updates(queries) -> list[str]:
    table = DBTaskResult._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{table}"')]


@pytest.mark.django_db
def test_a_batch_writes_its_successes_in_one_update_each_with_its_own_finish_time(
    queued, mailoutbox
):
    queued(3)

    with CaptureQueriesContext(connection) as ran:
        batch_worker(claim=3).run()

    assert len(mailoutbox) == 3
    # One UPDATE claims the three, one records their success.
    assert len(task_updates(ran)) == 2
    rows = list(
        DBTaskResult.objects.order_by("finished_at").values_list("started_at", "finished_at")
    )
    assert statuses() == [("SUCCESSFUL", ["worker-a"])] * 3
    assert len({finished for _, finished in rows}) == 3  # each its own, not the batch's
    assert all(started < finished for started, finished in rows)


@pytest.mark.django_db
def test_a_return_value_the_table_cannot_store_fails_the_task_as_a_save_would():
    task_result = BatchedTaskResult(status="RUNNING")

    with pytest.raises(TypeError):
        task_result.set_successful(object())

    assert task_result.status == "RUNNING"


@pytest.mark.django_db
def test_successes_not_yet_written_when_a_worker_dies_run_again_without_sending_twice(
    queued, mailoutbox, monkeypatch
):
    """Killed after sending, before the batch's successes were written: the tasks
    read RUNNING, the sweep hands them to another worker, whose re-run finds
    each email sent."""
    queued(2)
    monkeypatch.setattr(worker.BatchWorker, "record_successes", lambda *args: 0)
    batch_worker(claim=2).run()
    assert len(mailoutbox) == 2
    assert {status for status, _ in statuses()} == {"RUNNING"}
    monkeypatch.undo()
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)

    assert requeue_stale_tasks(lease=timedelta(0)) == 2
    batch_worker(claim=2, worker_id="worker-b").run()

    assert len(mailoutbox) == 2
    assert statuses() == [("SUCCESSFUL", ["worker-a", "worker-b"])] * 2
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {"sent"}


# --- a task's first run does not look for what an earlier run sent ----------------------


@pytest.mark.django_db
def test_a_first_run_sends_without_looking_for_earlier_emails_and_a_rerun_looks(queued, mailoutbox):
    (task,) = queued(1)

    with CaptureQueriesContext(connection) as first:
        batch_worker().run()
    lookups = [q["sql"] for q in first if "task_key" in q["sql"] and q["sql"].startswith("SELECT")]
    assert lookups == []
    assert len(mailoutbox) == 1

    # Its worker died after sending: the sweep queues it again, and a re-run
    # finds the email sent and does not send it twice.
    DBTaskResult.objects.filter(pk=task.pk).update(status="READY", started_at=None)
    with CaptureQueriesContext(connection) as rerun:
        batch_worker(worker_id="worker-b").run()
    assert [q for q in rerun if "task_key" in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(mailoutbox) == 1
    assert EmailDelivery.objects.get().status == "sent"


@pytest.mark.django_db
def test_the_same_address_twice_in_one_task_gets_one_email(task_queue, run_worker, mailoutbox):
    send_party_cancelled_email.enqueue(
        ["ana@example.com", "ana@example.com"], "Supper", "Sat 12 Dec", "Ben"
    )

    run_worker()

    assert [message.to for message in mailoutbox] == [["ana@example.com"]]
    assert EmailDelivery.objects.count() == 1


# --- asynchronous commits on PostgreSQL ----------------------------------------------------


def test_asynchronous_commits_switched_off_change_nothing(settings):
    settings.TASK_WORKER_ASYNC_COMMIT = False
    assert worker.use_asynchronous_commits() is False


@pytest.mark.django_db
def test_a_worker_connection_commits_asynchronously_on_postgresql(settings, monkeypatch):
    from django.db.backends.signals import connection_created

    settings.TASK_WORKER_ASYNC_COMMIT = True
    monkeypatch.setattr(worker.connections, "all", lambda **kwargs: [])  # keep the test's
    try:
        assert worker.use_asynchronous_commits() is True
        # What each new connection of the worker process then runs:
        worker.commit_asynchronously(sender=None, connection=connection)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone()[0] == "off"
                cursor.execute("SET synchronous_commit TO DEFAULT")
    finally:
        connection_created.disconnect(dispatch_uid="parties-worker-async-commit")


# --- two worker processes ------------------------------------------------------------------


class GatedSink:
    """Holds every message until `open` is set; then accepts, noting each
    message's recipients."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.accepted: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        while not self.open.is_set():
            await asyncio.sleep(0.02)
        with self.lock:
            self.accepted.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_holding_batches_at_once_never_run_a_task_twice(queued):
    tasks = queued(24)
    env = worker_env(EMAIL_TIMEOUT="60")
    sink = GatedSink()
    with smtp_sink(sink) as port:
        command = [sys.executable, "manage.py", "task_worker", "--batch", "--claim=4"]
        command += ["--no-startup-delay", "--interval=0", "--no-reload", "--verbosity=0"]
        workers = [
            subprocess.Popen(  # noqa: S603 (our own manage.py)
                [*command, f"--worker-id=worker-{n}"],
                cwd=settings.BASE_DIR,
                env={**env, "EMAIL_PORT": str(port)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for n in (1, 2)
        ]
        try:
            # Both hold a batch (each stuck on its first email) before any is sent.
            wait_for(
                lambda: (
                    DBTaskResult.objects.filter(status="RUNNING").count() == 8
                    or any(w.poll() is not None for w in workers)
                ),
                seconds=90,
                what="both workers to claim a batch",
            )
            sink.open.set()
            for process in workers:
                assert process.wait(timeout=120) == 0, process.stderr.read().decode()[-2000:]
        finally:
            sink.open.set()
            for process in workers:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            time.sleep(0.1)

    expected = sorted(task.args_kwargs["args"][0]["guest_email"] for task in tasks)
    assert sorted(sink.accepted) == expected  # each email once
    runs = list(DBTaskResult.objects.values_list("status", "worker_ids"))
    assert {status for status, _ in runs} == {"SUCCESSFUL"}
    assert all(len(ids) == 1 for _, ids in runs)  # each task claimed once, by one worker
    assert {ids[0] for _, ids in runs} == {"worker-1", "worker-2"}
