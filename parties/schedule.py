"""Timed work without cron: each party's timed tasks are delayed tasks
(`run_after`) on the queue, scheduled here and only here.

`services.py` calls `schedule_party_tasks` in the transaction that creates a party
or moves its time, so the task's row commits with the change. A task carries the
`starts_at` it was scheduled for and does nothing if the party has moved since
(the move scheduled a new one) or is gone (cancelled). Each guest is reminded at
most once: the mark (`RSVP.reminder_sent_at`) commits together with the queued
email, which the delivery pipeline then sends and retries
(`notifications.deliver`).

A backend that cannot delay tasks (the immediate one) schedules nothing:
`manage.py send_reminders`, safe to run any time, sends what is due instead.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone

from parties import notifications
from parties.models import RSVP, DinnerParty, RSVPStatus

logger = logging.getLogger(__name__)

# Going guests are reminded this long before the party starts.
REMINDER_BEFORE = timedelta(hours=24)


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
