"""The database queue (django-tasks-db): emails are queued in the transaction of
the change that causes them, and a worker sends them."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import services
from parties.tests.factories import DinnerPartyFactory

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
