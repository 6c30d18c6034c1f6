"""The worker's health: one log line per task (outcome, duration, the id of the
request that queued it), and finished tasks' rows pruned after a while."""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from dinnerparty.logging import RequestIdFilter
from parties.models import EmailDelivery
from parties.queue import prune_finished_tasks
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def task_lines(caplog):
    """The worker's per-task log records, each with the request id its line shows."""
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="parties.queue")
    return lambda: [record for record in caplog.records if record.name == "parties.queue"]


def test_the_worker_logs_each_task_with_its_outcome_duration_and_request_id(
    task_queue, run_worker, task_lines
):
    party = DinnerPartyFactory(seats=4)
    guest_client = client_for(UserFactory())

    response = guest_client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "going", "plus_ones": 0},
        headers={"X-Request-ID": "rsvp-request-42"},
    )
    assert response.status_code == 302
    assert DBTaskResult.objects.get().args_kwargs["request_id"] == "rsvp-request-42"
    run_worker()

    (line,) = task_lines()
    message = line.getMessage()
    assert message.startswith("task=parties.notifications.send_rsvp_emails id=")
    assert "outcome=SUCCESSFUL" in message
    assert line.levelname == "INFO"
    seconds = float(message.rsplit("duration=", 1)[1].rstrip("s"))
    assert 0 <= seconds < 5
    assert line.request_id == "rsvp-request-42"


def test_a_retry_and_a_failing_task_carry_the_request_id_and_failures_log_errors(
    task_queue, run_worker, task_lines, settings
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},  # nobody listens
        }
    }
    party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
    client_for(UserFactory()).post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "going", "plus_ones": 0},
        headers={"X-Request-ID": "req-7"},
    )
    run_worker()
    (line,) = task_lines()
    assert "outcome=SUCCESSFUL" in line.getMessage()  # the email waits for a retry
    assert EmailDelivery.objects.get().status == "retrying"

    # The retry keeps the request id of the reply that caused it; broken, it fails.
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["request_id"] == "req-7"
    DBTaskResult.objects.filter(pk=retry.pk).update(
        run_after=timezone.now(), args_kwargs={**retry.args_kwargs, "args": ["not", "an id"]}
    )
    run_worker()
    failed = task_lines()[1]
    assert failed.levelname == "ERROR"
    assert "task=parties.notifications.deliver_email" in failed.getMessage()
    assert "outcome=FAILED" in failed.getMessage()
    assert failed.request_id == "req-7"
    assert failed.exc_info is not None  # the traceback is on the line


def test_tasks_queued_outside_a_request_log_a_dash(task_queue, run_worker, task_lines):
    from parties import services

    services.rsvp_submit(party=DinnerPartyFactory(), guest=UserFactory(), status="going")
    run_worker()

    (line,) = task_lines()
    assert line.request_id == "-"


def finished(days_ago: float, status: str = "SUCCESSFUL") -> DBTaskResult:
    when = timezone.now() - timedelta(days=days_ago)
    return DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="parties.notifications.send_rsvp_emails",
        backend_name="default",
        run_after=when,
        status=status,
        started_at=when,
        finished_at=when,
    )


def test_finished_tasks_older_than_the_keep_period_are_pruned(task_queue, settings):
    settings.TASK_RESULTS_KEEP_DAYS = 7
    old_ok, old_failed = finished(8), finished(10, "FAILED")
    recent_ok, recent_failed = finished(6), finished(1, "FAILED")
    waiting = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="parties.notifications.send_rsvp_emails",
        backend_name="default",
        run_after=timezone.now() - timedelta(days=30),  # waiting a long time: kept
    )
    running = finished(20, "RUNNING")
    DBTaskResult.objects.filter(pk=running.pk).update(finished_at=None)

    assert prune_finished_tasks() == 2

    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {
        recent_ok.pk,
        recent_failed.pk,
        waiting.pk,
        running.pk,
    }
    assert not DBTaskResult.objects.filter(pk__in=[old_ok.pk, old_failed.pk]).exists()


def test_the_keep_period_is_a_setting(task_queue, settings):
    finished(2)
    settings.TASK_RESULTS_KEEP_DAYS = 1

    assert prune_finished_tasks() == 1
    assert not DBTaskResult.objects.exists()
