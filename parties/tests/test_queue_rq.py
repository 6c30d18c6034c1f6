"""TASKS_BACKEND=rq: the same tasks on RQ (django-tasks-rq + django-rq) against a
real Redis, with retries and delayed tasks as RQ scheduled jobs. Runs when
REDIS_URL is set (CI's PostgreSQL + Redis pass); its queue's keys start with
"rq:", apart from the cache's."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import EmailDelivery
from parties.notifications import RETRY_DELAYS
from parties.schedule import REMINDER_BEFORE
from parties.tests.factories import DinnerPartyFactory
from parties.tests.smtp import SinkHandler, smtp_mailers, smtp_sink
from parties.tests.test_queue_worker_process import start_worker, wait_for  # noqa: F401 (a fixture)

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (a real Redis)"),
    pytest.mark.django_db,
]


@pytest.fixture
def rq_queue(settings):
    """The RQ backend on the REDIS_URL Redis, its queue emptied before and after."""
    import django_rq

    settings.RQ_QUEUES = {"default": {"URL": os.environ["REDIS_URL"]}}
    settings.TASKS = {"default": {"BACKEND": settings.TASK_BACKENDS["rq"], "QUEUES": ["default"]}}
    queue = django_rq.get_queue("default")

    def empty() -> None:
        queue.empty()
        for registry in (queue.scheduled_job_registry, queue.finished_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)

    empty()
    yield queue
    empty()


@pytest.fixture
def rq_worker(rq_queue):
    """Run every job that is due, in this process (RQ's SimpleWorker, burst mode:
    the jobs see the test's database), as `manage.py worker` does on rq."""
    import django_rq
    from django_tasks_rq import Job
    from rq.worker import SimpleWorker

    def run() -> None:
        worker = django_rq.get_worker("default", job_class=Job, worker_class=SimpleWorker)
        worker.work(burst=True)

    return run


def scheduled(queue) -> list[tuple[str, object]]:
    """The jobs waiting for their time: (task path, when)."""
    registry = queue.scheduled_job_registry
    return [
        (queue.fetch_job(job_id).func_name, registry.get_scheduled_time(job_id))
        for job_id in registry.get_job_ids()
    ]


def fast_forward(queue) -> None:
    """Move every scheduled job to the queue now, as RQ's scheduler does when due."""
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))


def test_a_reply_is_queued_in_redis_once_it_commits_and_the_rq_worker_sends_it(
    rq_queue, rq_worker, mailoutbox, django_capture_on_commit_callbacks
):
    party = DinnerPartyFactory(seats=4)
    guest = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        services.rsvp_submit(party=party, guest=guest, status="going")
        assert rq_queue.count == 0  # not before the commit: Redis is not the database
    assert rq_queue.count == 1
    assert mailoutbox == []

    rq_worker()

    assert [m.to for m in mailoutbox] == [[guest.email], [party.host.email]]
    assert rq_queue.count == 0


def test_a_busy_server_is_retried_as_an_rq_scheduled_job(
    rq_queue, rq_worker, settings, django_capture_on_commit_callbacks
):
    from parties.tests.test_queue import ScriptedHandler

    handler = ScriptedHandler(["421 try again later"])
    party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
    guest = UserFactory()
    with smtp_sink(handler) as port:
        settings.MAILERS = smtp_mailers(port)
        with django_capture_on_commit_callbacks(execute=True):
            services.rsvp_submit(party=party, guest=guest, status="going")
        started = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            rq_worker()  # 421: a retry, 10 s on

        delivery = EmailDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("retrying", 1)
        ((path, when),) = scheduled(rq_queue)
        assert path == "parties.notifications.deliver_email"
        assert started + RETRY_DELAYS[0] - timedelta(seconds=1) <= when
        assert when <= timezone.now() + RETRY_DELAYS[0]
        rq_worker()
        assert handler.accepted == []  # not due yet

        fast_forward(rq_queue)
        rq_worker()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert handler.accepted == [[guest.email]]


def test_a_new_partys_reminder_is_an_rq_scheduled_job_a_day_before(
    rq_queue, django_capture_on_commit_callbacks
):
    party = DinnerPartyFactory.build(
        host=UserFactory(), starts_at=timezone.now() + timedelta(days=3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.party_create(party=party)

    # The guests' reminder a day before; and the invitees' two days before the
    # reply-by date (with none, before the party).
    jobs = dict(scheduled(rq_queue))
    when = jobs["parties.schedule.send_party_reminders"]
    assert abs(when - (party.starts_at - REMINDER_BEFORE)) < timedelta(seconds=1)
    assert set(jobs) == {
        "parties.schedule.send_party_reminders",
        "parties.schedule.send_reply_reminders",
    }


def test_a_slow_mail_server_does_not_hold_up_a_reply_on_rq(
    rq_queue, rq_worker, settings, django_capture_on_commit_callbacks
):
    import time

    handler = SinkHandler(delay=3)
    party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
    guest = UserFactory()
    with smtp_sink(handler) as port:
        settings.MAILERS = smtp_mailers(port)
        started = time.perf_counter()
        with django_capture_on_commit_callbacks(execute=True):
            services.rsvp_submit(party=party, guest=guest, status="going")
        elapsed = time.perf_counter() - started
        rq_worker()

    assert elapsed < 1
    assert handler.accepted == [[guest.email]]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_manage_py_worker_runs_the_rq_worker_which_sends_the_email(
    rq_queue,
    start_worker,  # noqa: F811 (the fixture imported above)
):
    """`make worker` on TASKS_BACKEND=rq: a real `manage.py worker` process runs
    django-rq's worker (forking a work horse per job) and the email arrives."""
    handler = SinkHandler()
    party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
    guest = UserFactory()
    with smtp_sink(handler) as port:
        start_worker(port, TASKS_BACKEND="rq", REDIS_URL=os.environ["REDIS_URL"])
        services.rsvp_submit(party=party, guest=guest, status="going")  # commits: queued
        wait_for(
            lambda: EmailDelivery.objects.filter(status="sent").exists(),
            seconds=60,
            what="the RQ worker to send the email and record it",
        )

    assert handler.accepted == [[guest.email]]
    assert EmailDelivery.objects.get().status == "sent"
