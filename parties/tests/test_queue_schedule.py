"""Timed work without cron (parties/schedule.py): a party's reminder is a delayed
task scheduled with the party, moved with it, and a no-op once it is cancelled."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP, DinnerParty, RSVPStatus
from parties.schedule import REMINDER_BEFORE, schedule_party_tasks
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, going, make_due, queued_for

pytestmark = pytest.mark.django_db

REMINDERS = "parties.schedule.send_party_reminders"


def new_party(*, starts_in: timedelta = timedelta(days=3), **fields) -> DinnerParty:
    """A party created through the service, as the site and the admin create them."""
    party = DinnerPartyFactory.build(
        host=UserFactory(), starts_at=timezone.now() + starts_in, **fields
    )
    return services.party_create(party=party)


def scheduled(party: DinnerParty) -> list[DBTaskResult]:
    return queued_for(REMINDERS, party)


def reminded(mailoutbox) -> list[str]:
    return sorted(
        address
        for message in mailoutbox
        if message.subject.startswith("Reminder:")
        for address in message.to
    )


def test_a_new_party_schedules_its_reminder_a_day_before_it_starts(task_queue):
    party = new_party(starts_in=timedelta(days=3))

    (task,) = scheduled(party)
    assert task.run_after == party.starts_at - REMINDER_BEFORE
    assert task.args_kwargs["args"] == [party.pk, party.starts_at.isoformat()]


def test_a_party_created_through_the_site_schedules_its_reminder(task_queue):
    host = UserFactory()
    starts = timezone.localtime(timezone.now() + timedelta(days=5), timezone.get_fixed_timezone(0))

    response = client_for(host).post(
        reverse("parties:create"),
        {
            "title": "Paella night",
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "timezone": "UTC",
            "venue": "12 Rue des Fleurs",
            "area": "",
            "main_dish": "Paella",
            "seats": 6,
            "description": "",
            "visibility": "public",
            "address_shown_to": "auto",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    party = DinnerParty.objects.get(host=host)
    (task,) = scheduled(party)
    assert task.run_after == party.starts_at - REMINDER_BEFORE


def test_a_party_less_than_a_day_away_is_reminded_at_once(task_queue):
    before = timezone.now()
    party = new_party(starts_in=timedelta(hours=5))

    (task,) = scheduled(party)
    assert before <= task.run_after <= timezone.now()


def test_the_scheduled_reminder_reaches_going_guests_once(task_queue, run_worker, mailoutbox):
    party = new_party()
    ben, cho, dev = UserFactory(), UserFactory(), UserFactory()
    going(party, ben, plus_ones=1)
    services.rsvp_submit(party=party, guest=cho, status=RSVPStatus.MAYBE)
    services.rsvp_submit(party=party, guest=dev, status=RSVPStatus.DECLINED)
    run_worker()  # the replies' confirmations go now; the reminder waits for its time
    assert reminded(mailoutbox) == []

    make_due(scheduled(party))
    run_worker()

    assert reminded(mailoutbox) == [ben.email]
    assert RSVP.objects.get(guest=ben).reminder_sent_at is not None
    # The catch-up command, run any time after, finds nothing left to send.
    call_command("send_reminders", stdout=None)
    run_worker()
    assert reminded(mailoutbox) == [ben.email]


def test_a_moved_party_is_reminded_at_its_new_time_and_the_old_task_does_nothing(
    task_queue, run_worker, mailoutbox
):
    party = new_party(starts_in=timedelta(days=3))
    ben = UserFactory()
    going(party, ben)
    (old,) = scheduled(party)

    services.party_update(party=party, changes={"starts_at": party.starts_at + timedelta(days=2)})

    new = [task for task in scheduled(party) if task.pk != old.pk]
    assert [task.run_after for task in new] == [party.starts_at - REMINDER_BEFORE]
    make_due([old])
    run_worker()
    assert reminded(mailoutbox) == []
    assert DBTaskResult.objects.get(pk=old.pk).return_value == 0

    make_due(new)
    run_worker()
    assert reminded(mailoutbox) == [ben.email]


def test_a_guest_reminded_before_the_party_moved_is_reminded_of_the_new_time(
    task_queue, run_worker, mailoutbox
):
    party = new_party(starts_in=timedelta(hours=20))
    ben = UserFactory()
    going(party, ben)
    run_worker()
    assert reminded(mailoutbox) == [ben.email]

    services.party_update(party=party, changes={"starts_at": party.starts_at + timedelta(hours=2)})
    assert RSVP.objects.get(guest=ben).reminder_sent_at is None
    run_worker()

    assert reminded(mailoutbox) == [ben.email, ben.email]


def test_the_reminder_of_a_cancelled_party_does_nothing(task_queue, run_worker, mailoutbox):
    party = new_party()
    going(party, UserFactory())
    tasks = scheduled(party)

    services.party_delete(party=party)
    make_due(tasks)
    run_worker()

    assert reminded(mailoutbox) == []
    assert [DBTaskResult.objects.get(pk=task.pk).status for task in tasks] == ["SUCCESSFUL"]


def test_a_party_edited_without_moving_keeps_its_one_reminder(task_queue):
    party = new_party()

    services.party_update(party=party, changes={"title": "Tapas night", "seats": 10})

    assert len(scheduled(party)) == 1


def test_the_immediate_backend_schedules_nothing_and_the_catch_up_sends(mailoutbox):
    party = new_party(starts_in=timedelta(hours=5))
    ben = UserFactory()
    going(party, ben)

    assert schedule_party_tasks(party) is False
    assert not DBTaskResult.objects.exists()

    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_reminders", stdout=None)
    assert reminded(mailoutbox) == [ben.email]
