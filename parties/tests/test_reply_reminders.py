"""Reminders to invitees who haven't answered (issue 20, item 5): two days before
the reply-by date (or the start), each invitee without a reply gets one, as a
delayed task moved with the date and caught up by `manage.py send_reminders`;
nobody gets two invitation emails within a day."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory
from parties import deadline, services
from parties.models import (
    DeliveryStatus,
    DinnerParty,
    EmailDelivery,
    Invitation,
    InvitationState,
    RSVPStatus,
)
from parties.schedule import REPLY_REMINDER_BEFORE, schedule_reply_reminders
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import make_due, queued_for

pytestmark = pytest.mark.django_db

NUDGES = "parties.schedule.send_reply_reminders"
THREE = [("Ana", "ana@example.com"), ("", "bob@example.com"), ("Cy", "cy@example.com")]


def new_party(*, starts_in=timedelta(days=6), reply_in=timedelta(days=4), **fields):
    now = timezone.now()
    party = DinnerPartyFactory.build(
        host=UserFactory(),
        starts_at=now + starts_in,
        reply_by=now + reply_in if reply_in is not None else None,
        **fields,
    )
    return services.party_create(party=party)


def scheduled(party: DinnerParty) -> list[DBTaskResult]:
    return queued_for(NUDGES, party)


def invite(party: DinnerParty, addresses=THREE) -> list[Invitation]:
    return services.invitations_send(party=party, by=party.host, addresses=addresses).invited


def emailed_days_ago(party: DinnerParty, days: float = 3) -> None:
    """As if the invitations had gone out `days` ago."""
    then = timezone.now() - timedelta(days=days)
    Invitation.objects.filter(party=party).update(created_at=then, sent_at=then)


def reminded(mailoutbox) -> list[str]:
    return sorted(
        address
        for message in mailoutbox
        if message.subject.startswith("Reminder:") and "invites you" in message.subject
        for address in message.to
    )


def send_reminders() -> str:
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_reminders", stdout=out)
    return out.getvalue().strip()


def test_a_new_party_schedules_the_reminder_two_days_before_its_reply_by_date(task_queue):
    party = new_party(reply_in=timedelta(days=4))

    (task,) = scheduled(party)
    assert task.run_after == party.reply_by - REPLY_REMINDER_BEFORE
    assert task.args_kwargs["args"] == [party.pk, party.reply_by.isoformat()]


def test_without_a_reply_by_date_the_reminder_comes_two_days_before_the_start(task_queue):
    party = new_party(reply_in=None, starts_in=timedelta(days=5))

    (task,) = scheduled(party)
    assert task.run_after == party.starts_at - REPLY_REMINDER_BEFORE


def test_the_scheduled_reminder_reaches_only_those_who_havent_answered_once(
    task_queue, run_worker, mailoutbox
):
    party = new_party()
    ana, bob, cy = invite(party)
    late = invite(party, [("Dee", "dee@example.com")])
    run_worker()  # the invitations go out
    emailed_days_ago(party)
    Invitation.objects.filter(pk=late[0].pk).update(state=InvitationState.HELD)
    # Ana replies through her link; Bob from the party's page with his address in capitals.
    Invitation.objects.filter(pk=ana.pk).update(state=InvitationState.REPLIED)
    services.rsvp_submit(
        party=party, guest=UserFactory(email="BOB@example.com"), status=RSVPStatus.DECLINED
    )
    run_worker()
    mailoutbox.clear()

    make_due(scheduled(party))
    run_worker()

    assert reminded(mailoutbox) == ["cy@example.com"]
    message = next(m for m in mailoutbox if m.to == ["cy@example.com"])
    assert f"Please reply by {party.reply_by_text}." in message.body
    assert Invitation.objects.get(pk=cy.pk).reply_reminder_sent_at is not None
    # The catch-up, run any time after, finds nothing left to send.
    assert send_reminders() == "Sent 0 reminders."
    run_worker()
    assert reminded(mailoutbox) == ["cy@example.com"]


def test_a_bounced_address_is_not_reminded(task_queue, run_worker, mailoutbox):
    party = new_party()
    (ana,) = invite(party, [("Ana", "ana@example.com")])
    run_worker()
    emailed_days_ago(party)
    EmailDelivery.objects.filter(pk=Invitation.objects.get(pk=ana.pk).delivery_id).update(
        status=DeliveryStatus.FAILED
    )

    make_due(scheduled(party))
    run_worker()

    assert reminded(mailoutbox) == []


def test_an_invitee_emailed_today_waits_and_the_task_comes_back_when_the_day_is_over(
    task_queue, run_worker, mailoutbox
):
    party = new_party()
    (ana,) = invite(party, [("Ana", "ana@example.com")])
    run_worker()
    sent_at = timezone.now() - timedelta(hours=2)
    Invitation.objects.filter(pk=ana.pk).update(created_at=sent_at, sent_at=sent_at)
    (first,) = scheduled(party)

    make_due([first])
    run_worker()

    assert reminded(mailoutbox) == []
    (again,) = scheduled(party)
    assert again.run_after == sent_at + timedelta(days=1)
    make_due([again])
    emailed_days_ago(party)
    run_worker()
    assert reminded(mailoutbox) == ["ana@example.com"]


def test_a_moved_reply_by_date_reschedules_and_the_old_task_does_nothing(
    task_queue, run_worker, mailoutbox
):
    party = new_party()
    invite(party, [("Ana", "ana@example.com")])
    run_worker()
    emailed_days_ago(party)
    (old,) = scheduled(party)

    services.party_update(party=party, changes={"reply_by": party.reply_by + timedelta(hours=12)})

    (new,) = [task for task in scheduled(party) if task.pk != old.pk]
    assert new.run_after == party.reply_by - REPLY_REMINDER_BEFORE
    make_due([old])
    run_worker()
    assert reminded(mailoutbox) == []
    assert DBTaskResult.objects.get(pk=old.pk).return_value == 0
    make_due([new])
    run_worker()
    assert reminded(mailoutbox) == ["ana@example.com"]


def test_a_moved_start_without_reply_by_date_reschedules_but_one_with_it_does_not(task_queue):
    open_ended = new_party(reply_in=None)
    dated = new_party()

    for party in (open_ended, dated):
        services.party_update(
            party=party, changes={"starts_at": party.starts_at + timedelta(days=1)}
        )

    assert [task.run_after for task in scheduled(open_ended)][-1] == (
        open_ended.starts_at - REPLY_REMINDER_BEFORE
    )
    assert len(scheduled(dated)) == 1


def test_an_invitee_reminded_before_the_deadline_moved_is_reminded_of_the_new_one(
    task_queue, run_worker, mailoutbox
):
    party = new_party(reply_in=timedelta(days=1, hours=12))
    invite(party, [("Ana", "ana@example.com")])
    run_worker()  # the reminder is due now, but Ana was invited just now: it waits a day
    emailed_days_ago(party)
    make_due(scheduled(party))
    run_worker()
    assert reminded(mailoutbox) == ["ana@example.com"]

    services.party_update(party=party, changes={"reply_by": party.reply_by + timedelta(hours=3)})

    assert Invitation.objects.get(email="ana@example.com").reply_reminder_sent_at is None
    run_worker()
    assert reminded(mailoutbox) == ["ana@example.com", "ana@example.com"]


def test_the_reminder_of_a_cancelled_party_does_nothing(task_queue, run_worker, mailoutbox):
    party = new_party()
    invite(party)
    run_worker()
    tasks = scheduled(party)

    services.party_delete(party=party)
    make_due(tasks)
    run_worker()

    assert reminded(mailoutbox) == []
    assert [DBTaskResult.objects.get(pk=task.pk).status for task in tasks] == ["SUCCESSFUL"]


def test_the_immediate_backend_schedules_nothing_and_the_catch_up_sends_once(mailoutbox):
    party = new_party(reply_in=timedelta(days=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        invite(party)
    emailed_days_ago(party)

    assert schedule_reply_reminders(party) is False
    assert not DBTaskResult.objects.exists()
    assert send_reminders() == "Sent 3 reminders."
    assert send_reminders() == "Sent 0 reminders."
    assert reminded(mailoutbox) == ["ana@example.com", "bob@example.com", "cy@example.com"]


def test_the_catch_up_leaves_parties_whose_deadline_is_far_or_past(mailoutbox):
    far = new_party(reply_in=timedelta(days=3))
    closed = new_party(reply_in=timedelta(days=3))
    for party in (far, closed):
        with TestCase.captureOnCommitCallbacks(execute=True):
            invite(party, [("Ana", "ana@example.com")])
        emailed_days_ago(party)
    DinnerParty.objects.filter(pk=closed.pk).update(reply_by=timezone.now() - timedelta(hours=1))

    assert send_reminders() == "Sent 0 reminders."


def test_the_hosts_remind_and_the_automatic_one_never_both_reach_someone_the_same_day(
    mailoutbox,
):
    party = new_party(reply_in=timedelta(days=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        invite(party, [("Ana", "ana@example.com"), ("Bob", "bob@example.com")])
    emailed_days_ago(party)
    # The automatic reminder reached Ana a few hours ago; Bob was invited since.
    Invitation.objects.filter(email="ana@example.com").update(
        reply_reminder_sent_at=timezone.now() - timedelta(hours=3)
    )
    Invitation.objects.filter(email="bob@example.com").update(sent_at=timezone.now())
    mailoutbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.invitations_remind(party=party) == 1
    assert reminded(mailoutbox) == ["bob@example.com"]

    # …and the automatic one skips Bob, whom the host just reminded.
    assert send_reminders() == "Sent 0 reminders."


def test_a_reminder_queued_before_the_invitee_answered_is_not_sent(mailoutbox):
    from parties import notifications

    party = new_party()
    (ana,) = invite(party, [("Ana", "ana@example.com")])
    Invitation.objects.filter(pk=ana.pk).update(state=InvitationState.REPLIED)

    notifications.send_invitation_email.call(ana.pk, reminder=True)

    assert reminded(mailoutbox) == []


def test_the_final_numbers_name_the_invitees_who_never_answered(mailoutbox):
    party = new_party()
    with TestCase.captureOnCommitCallbacks(execute=True):
        invite(party)
    Invitation.objects.filter(email="ana@example.com").update(state=InvitationState.REPLIED)
    Invitation.objects.filter(email="cy@example.com").update(state=InvitationState.HELD)

    assert deadline.unanswered_invitations(party) == ["bob@example.com"]
    services.rsvp_submit(
        party=party, guest=UserFactory(email="Bob@Example.com"), status=RSVPStatus.MAYBE
    )
    assert deadline.unanswered_invitations(party) == []
