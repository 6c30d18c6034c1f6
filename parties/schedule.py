"""Timed work without cron: each party's timed tasks are delayed tasks
(`run_after`) on the queue, scheduled here and only here.

`services.py` calls `schedule_party_tasks` in the transaction that creates a party
or moves its time, so the task's row commits with the change. A task carries the
`starts_at` it was scheduled for and does nothing if the party has moved since
(the move scheduled a new one) or is gone (cancelled). Each guest is reminded at
most once: the mark (`RSVP.reminder_sent_at`) commits together with the queued
email, which the delivery pipeline then sends and retries
(`notifications.deliver`).

Invitees who have not answered get one reminder REPLY_REMINDER_BEFORE the reply-by
date (the start when there is none): `schedule_reply_reminders`, called in the same
transactions, queues `send_reply_reminders` for that moment. Each invitation is
claimed (`Invitation.reply_reminder_sent_at`) in the transaction that queues its
email. Nobody gets two invitation emails within a day (`invitations.REMIND_EVERY`):
an invitee emailed less than a day ago (the invitation itself, or the host's
"remind" button) is skipped and the task runs again when that day is over; the
host's button in turn skips those the automatic reminder reached that day.

A backend that cannot delay tasks (the immediate one) schedules nothing:
`manage.py send_reminders`, safe to run any time, sends what is due instead.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.tasks import task
from django.utils import timezone

from parties import notifications
from parties.invitations import REMIND_EVERY
from parties.models import RSVP, DeliveryStatus, DinnerParty, Invitation, RSVPStatus

logger = logging.getLogger(__name__)

# Going guests are reminded this long before the party starts.
REMINDER_BEFORE = timedelta(hours=24)
# Invitees who haven't answered are reminded this long before the reply-by date
# (or the start, for a party without one).
REPLY_REMINDER_BEFORE = timedelta(days=2)


def schedule_party_tasks(party: DinnerParty, *, moved: bool = False) -> bool:
    """Queue `party`'s timed tasks for its current time (call it in the transaction
    that creates the party or moves it, with `moved`). A moved party's going guests
    are reminded again, of the new time. Returns whether anything was scheduled (not on a
    backend that cannot delay tasks)."""
    if moved:
        RSVP.objects.filter(party=party, reminder_sent_at__isnull=False).update(
            reminder_sent_at=None
        )
    if not send_party_reminders.get_backend().supports_defer:
        return False
    now = timezone.now()
    if party.starts_at <= now:
        return False
    run_after = max(party.starts_at - REMINDER_BEFORE, now)
    notifications.enqueue(
        send_party_reminders.using(run_after=run_after), party.pk, party.starts_at.isoformat()
    )
    return True


@task
def send_party_reminders(party_id: int, starts_at: str) -> int:
    """Remind the going guests of a party that starts at `starts_at` (ISO 8601), as
    scheduled; nothing if it has moved, been cancelled or started. Returns how
    many reminders were queued."""
    scheduled_for = datetime.fromisoformat(starts_at)
    party = DinnerParty.objects.filter(pk=party_id).only("starts_at").first()
    if party is None or party.starts_at != scheduled_for:
        return 0  # cancelled, or moved (its new time has a task of its own)
    return remind_going_guests(RSVP.objects.filter(party_id=party_id))


def due_reminders(*, now: datetime | None = None) -> QuerySet[RSVP]:
    """Going guests not yet reminded of a party starting within `REMINDER_BEFORE`."""
    now = now or timezone.now()
    return RSVP.objects.filter(
        party__starts_at__gt=now, party__starts_at__lte=now + REMINDER_BEFORE
    )


def remind_going_guests(rsvps: QuerySet[RSVP], *, now: datetime | None = None) -> int:
    """Queue a reminder for each of these replies that is going, not yet reminded,
    and whose party has not started. Each claim commits with its queued email (or
    neither does), so a guest is reminded once however often this runs, in
    parallel too. Returns how many were queued."""
    now = now or timezone.now()
    due = rsvps.filter(
        status=RSVPStatus.GOING, reminder_sent_at__isnull=True, party__starts_at__gt=now
    ).values_list("pk", flat=True)
    sent = 0
    for rsvp_id in due.iterator():
        with transaction.atomic():
            claimed = RSVP.objects.filter(
                pk=rsvp_id, status=RSVPStatus.GOING, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if claimed:
                notifications.enqueue(notifications.send_reminder_email, rsvp_id)
                sent += 1
    if sent:
        logger.info("Queued %s reminder(s)", sent)
    return sent


# --- Invitees who haven't answered ------------------------------------------------


def reply_deadline(party: DinnerParty) -> datetime:
    """When replies close: the reply-by date, else the start."""
    return party.reply_by or party.starts_at


def schedule_reply_reminders(party: DinnerParty, *, moved: bool = False) -> bool:
    """Queue the reminder to `party`'s invitees who haven't answered, for
    REPLY_REMINDER_BEFORE its reply deadline (call it in the transaction that
    creates the party or moves its start or reply-by date, with `moved`: the
    invitees are then reminded again, of the new date). Returns whether anything
    was scheduled (not on a backend that cannot delay tasks)."""
    if moved:
        Invitation.objects.filter(party=party, reply_reminder_sent_at__isnull=False).update(
            reply_reminder_sent_at=None
        )
    if not send_reply_reminders.get_backend().supports_defer:
        return False
    now = timezone.now()
    deadline = reply_deadline(party)
    if deadline <= now:
        return False
    _enqueue_reply_reminders(
        party.pk, deadline, run_after=max(deadline - REPLY_REMINDER_BEFORE, now)
    )
    return True


def _enqueue_reply_reminders(party_id: int, deadline: datetime, *, run_after: datetime) -> None:
    notifications.enqueue(
        send_reply_reminders.using(run_after=run_after), party_id, deadline.isoformat()
    )


@task
def send_reply_reminders(party_id: int, deadline: str) -> int:
    """Remind the invitees of a party whose replies close at `deadline` (ISO 8601)
    who haven't answered; nothing if the deadline has moved (the move scheduled a
    new task) or the party is gone. Invitees emailed less than a day ago wait: the
    task runs again when the first of them may be reminded. Returns how many
    reminders were queued."""
    scheduled_for = datetime.fromisoformat(deadline)
    party = DinnerParty.objects.filter(pk=party_id).only("starts_at", "reply_by").first()
    if party is None or reply_deadline(party) != scheduled_for:
        return 0
    now = timezone.now()
    sent = remind_unanswered(Invitation.objects.filter(party_id=party_id), now=now)
    waiting = unreminded(now=now).filter(party_id=party_id)
    last_emails = [
        max(moment for moment in moments if moment)
        for moments in waiting.values_list("sent_at", "reminded_at", "created_at")
    ]
    if last_emails:
        run_after = min(last_emails) + REMIND_EVERY
        if run_after < scheduled_for:
            _enqueue_reply_reminders(party_id, scheduled_for, run_after=run_after)
    return sent


def unreminded(*, now: datetime) -> QuerySet[Invitation]:
    """Invitations not answered nor reminded yet, to an address that hasn't
    bounced, of parties still taking replies."""
    return (
        Invitation.objects.unanswered()
        .filter(reply_reminder_sent_at__isnull=True, party__starts_at__gt=now)
        .exclude(party__reply_by__lte=now)
        .exclude(delivery__status=DeliveryStatus.FAILED)
    )


def due_reply_reminders(*, now: datetime | None = None) -> QuerySet[Invitation]:
    """`unreminded` invitations of parties whose replies close within
    REPLY_REMINDER_BEFORE (the catch-up's share)."""
    now = now or timezone.now()
    return unreminded(now=now).filter(
        Q(party__reply_by__isnull=True, party__starts_at__lte=now + REPLY_REMINDER_BEFORE)
        | Q(party__reply_by__lte=now + REPLY_REMINDER_BEFORE)
    )


def _emailed_over_a_day_ago(invitations: QuerySet[Invitation], *, now: datetime) -> QuerySet:
    """Those last emailed (invited, or reminded by a host) at least REMIND_EVERY ago."""
    day_ago = now - REMIND_EVERY
    return invitations.filter(
        Q(sent_at__isnull=True, created_at__lte=day_ago) | Q(sent_at__lte=day_ago),
        Q(reminded_at__isnull=True) | Q(reminded_at__lte=day_ago),
    )


def remind_unanswered(invitations: QuerySet[Invitation], *, now: datetime | None = None) -> int:
    """Queue the reminder for each of these invitations that is `unreminded` and
    was last emailed at least REMIND_EVERY ago. Each claim commits with its queued
    email (or neither does), so an invitee is reminded once however often this
    runs. Returns how many were queued."""
    now = now or timezone.now()
    due = _emailed_over_a_day_ago(unreminded(now=now), now=now).filter(
        pk__in=invitations.values("pk")
    )
    sent = 0
    for invitation_id in due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=invitation_id, reply_reminder_sent_at__isnull=True
            ).update(reply_reminder_sent_at=now)
            if claimed:
                notifications.enqueue(
                    notifications.send_invitation_email, invitation_id, reminder=True
                )
                sent += 1
    if sent:
        logger.info("Queued %s reminder(s) to invitees who haven't answered", sent)
    return sent
