"""The database queue (django-tasks-db): emails are queued in the transaction of
the change that causes them, and a worker sends them."""

import hashlib
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import EmailDelivery
from parties.notifications import RETRY_DELAYS
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_a_reply_queues_its_email_in_its_own_transaction(task_queue, mailoutbox):
    party = DinnerPartyFactory(seats=4)
    guest = UserFactory()

    services.rsvp_submit(party=party, guest=guest, status="going")

    (queued,) = DBTaskResult.objects.all()
    assert queued.status == "READY"
    assert queued.task_path == "parties.notifications.send_rsvp_emails"
    assert queued.args_kwargs["args"][0]["guest_email"] == guest.email
    assert mailoutbox == []  # the worker sends it


def test_a_reply_rolled_back_queues_nothing(task_queue):
    party = DinnerPartyFactory(seats=4)

    queued_inside = []

    def reply_then_fail() -> None:
        with transaction.atomic():
            services.rsvp_submit(party=party, guest=UserFactory(), status="going")
            queued_inside.append(DBTaskResult.objects.count())
            raise RuntimeError("the change fails after the task was queued")

    with pytest.raises(RuntimeError):
        reply_then_fail()

    assert queued_inside == [1]

    assert not DBTaskResult.objects.exists()
    assert not party.rsvps.exists()


def test_the_worker_sends_what_is_queued(task_queue, run_worker, mailoutbox):
    party = DinnerPartyFactory(seats=4)
    guest = UserFactory()
    services.rsvp_submit(party=party, guest=guest, status="going")

    run_worker()

    assert [m.to for m in mailoutbox] == [[guest.email], [party.host.email]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


# --- delivery over real SMTP, with retries -------------------------------------------


class ScriptedHandler:
    """An SMTP server's DATA replies, in order (then 250); what it accepted."""

    def __init__(self, replies: list[str]):
        self.replies = list(replies)
        self.accepted: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        reply = self.replies.pop(0) if self.replies else "250 OK"
        if reply.startswith("250"):
            self.accepted.append(list(envelope.rcpt_tos))
        return reply


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server in this process; the mailer points at it."""
    from aiosmtpd.controller import Controller

    servers = []

    def start(*replies: str) -> ScriptedHandler:
        handler = ScriptedHandler(list(replies))
        with socket.socket() as probe:  # a free port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
            }
        }
        return handler

    yield start
    for controller in servers:
        controller.stop()


def fast_forward() -> None:
    """Make every scheduled task due now (as if its time had come)."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def guest_replies(guest=None) -> str:
    """A guest replies "going" to a party whose host is not emailed (their address
    is unconfirmed): one email, to the guest. Returns the guest's address."""
    party = DinnerPartyFactory(seats=4, host=UserFactory(unconfirmed=True))
    guest = guest or UserFactory()
    services.rsvp_submit(party=party, guest=guest, status="going")
    return guest.email


def test_an_email_the_server_accepts_is_recorded_sent(task_queue, run_worker, smtp_server):
    server = smtp_server()
    party = DinnerPartyFactory(seats=4)
    guest = UserFactory()
    services.rsvp_submit(party=party, guest=guest, status="going")

    run_worker()

    assert server.accepted == [[guest.email], [party.host.email]]
    assert sorted(EmailDelivery.objects.values_list("template", "status", "attempts")) == [
        ("rsvp_confirmation", "sent", 1),
        ("rsvp_host_note", "sent", 1),
    ]


def test_an_email_is_recorded_once_after_it_is_tried(task_queue, run_worker, smtp_server):
    """One write an email: its row is written with its fate, not "queued" first
    and updated after."""
    smtp_server()
    guest_replies()
    table = EmailDelivery._meta.db_table

    with CaptureQueriesContext(connection) as ran:
        run_worker()

    writes = [q["sql"].split(" (")[0] for q in ran if f'"{table}"' in q["sql"].split(" (")[0]]
    assert writes == [f'INSERT INTO "{table}"']
    assert EmailDelivery.objects.get().status == "sent"


def test_an_email_another_run_of_its_task_recorded_first_is_recorded_once(
    task_queue, run_worker, smtp_server
):
    """A task swept back to the queue while its first worker was slow, not dead:
    both runs send, and the second to record it finds its row taken."""
    server = smtp_server()
    address = guest_replies()
    (task,) = DBTaskResult.objects.all()
    key = hashlib.sha256(f"{task.id}\nrsvp_confirmation\n{address}".encode()).hexdigest()
    EmailDelivery.objects.create(
        template="rsvp_confirmation", to=address, subject="…", task_key=key, status="sent"
    )

    run_worker()

    assert server.accepted == [[address]]
    assert EmailDelivery.objects.count() == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_busy_server_is_tried_again_later_until_it_accepts(task_queue, run_worker, smtp_server):
    server = smtp_server("421 try again later", "421 still busy")
    address = guest_replies()
    started = timezone.now()

    run_worker()  # the first try: 421

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert "421" in delivery.last_error
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.task_path == "parties.notifications.deliver_email"
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert started + RETRY_DELAYS[0] <= retry.run_after <= timezone.now() + RETRY_DELAYS[0]
    run_worker()
    assert server.accepted == []  # not due yet

    fast_forward()
    run_worker()  # the second try: 421 again, then a minute's wait
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("retrying", 2)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after >= timezone.now() + RETRY_DELAYS[1] - timedelta(seconds=5)

    fast_forward()
    run_worker()  # the third: accepted
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("sent", 3, None)
    assert server.accepted == [[address]]
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_a_rejected_address_is_not_retried(task_queue, run_worker, smtp_server):
    server = smtp_server("550 no such user here")
    guest_replies()

    run_worker()

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "550" in delivery.last_error
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert server.accepted == []


def test_a_server_that_stays_busy_is_given_up_after_the_last_retry(
    task_queue, run_worker, smtp_server
):
    server = smtp_server(*["421 busy"] * 10)
    guest_replies()

    run_worker()
    delays = []
    while retry := DBTaskResult.objects.filter(status="READY").first():
        delays.append(retry.run_after - timezone.now())
        fast_forward()
        run_worker()

    assert len(delays) == len(RETRY_DELAYS) == 5
    for delay, expected in zip(delays, RETRY_DELAYS, strict=True):
        assert expected - timedelta(seconds=5) <= delay <= expected
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 6)
    assert server.accepted == []


def test_a_refused_connection_is_retried(task_queue, run_worker, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},  # nobody listens
        }
    }
    guest_replies()

    run_worker()

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert "ConnectionRefusedError" in delivery.last_error


# --- nothing stuck when a worker dies ------------------------------------------------


def test_a_task_left_running_past_its_lease_is_queued_again(task_queue, run_worker, mailoutbox):
    address = guest_replies()
    task = DBTaskResult.objects.get()
    task.claim("a-worker-that-died")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(minutes=6))
    fresh = DBTaskResult.objects.create(
        args_kwargs=task.args_kwargs,
        task_path=task.task_path,
        backend_name="default",
        run_after=task.run_after,
        status="RUNNING",
        started_at=timezone.now() - timedelta(minutes=1),  # a live worker's
    )

    out = StringIO()
    call_command("requeue_stale_tasks", stdout=out)

    assert out.getvalue().strip() == "Re-queued 1 stale task."
    task.refresh_from_db()
    assert (task.status, task.started_at) == ("READY", None)
    assert DBTaskResult.objects.get(pk=fresh.pk).status == "RUNNING"
    run_worker()
    assert [m.to for m in mailoutbox] == [[address]]


def test_tasks_status_shows_depth_age_and_failures(task_queue, run_worker, smtp_server):
    smtp_server("550 no")
    guest_replies()
    run_worker()
    guest_replies()
    DBTaskResult.objects.filter(status="READY").update(
        enqueued_at=timezone.now() - timedelta(minutes=3)
    )

    out = StringIO()
    call_command("tasks_status", stdout=out)

    lines = out.getvalue().splitlines()
    assert "waiting: 1" in lines
    assert any(line.startswith("oldest waiting: 18") for line in lines)
    assert "failed emails (24 h): 1" in lines


def test_the_admin_lists_deliveries_by_fate(task_queue, run_worker, smtp_server):
    admin_client = client_for(UserFactory(is_staff=True, is_superuser=True))
    smtp_server("550 no")
    guest_replies()
    run_worker()

    response = admin_client.get(
        reverse("admin:parties_emaildelivery_changelist"), {"status__exact": "failed"}
    )

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(EmailDelivery.objects.all())
