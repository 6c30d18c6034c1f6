"""The reply-by date's email: at the deadline the hosts get the final numbers
(head count with plus-ones, diets and allergies at the table, the menu with its
clashes, who never answered), once per party.

On the database task queue the email is a task scheduled for the deadline
(`schedule_final_numbers`, called by services when a party is created or its
deadline moves). `manage.py send_final_numbers` (cron) sends whatever is due and
not yet sent: the catch-up for a worker that was down, and the only way on a
backend that can't defer tasks. Either way `send_final_numbers_now` claims the
party (`final_numbers_sent_at`) in the transaction that composes and queues the
email, so each party gets it once however many runs and workers race."""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone

from parties import notifications
from parties.menu import build_menu, coverage, needs_of_rsvp
from parties.models import DinnerParty, Invitation
from parties.selectors import GuestList, PartyExtras, hosts_summary


def schedule_final_numbers(party: DinnerParty) -> None:
    """Queue the final numbers for the party's reply-by date, in the caller's
    transaction. Only the database queue can hold a task until then; elsewhere
    the command sends it. A task for a deadline since moved finds nothing due
    when it runs (see `send_final_numbers_now`)."""
    if party.reply_by is None or party.final_numbers_sent_at is not None:
        return
    if notifications.in_worker(send_final_numbers):
        send_final_numbers.using(run_after=party.reply_by).enqueue(party.pk)


def due(now: datetime) -> QuerySet[DinnerParty]:
    """Parties past their reply-by date, not started, whose hosts weren't told yet."""
    return DinnerParty.objects.filter(
        reply_by__lte=now, final_numbers_sent_at__isnull=True, starts_at__gt=now
    )


@task
def send_final_numbers(party_id: int) -> bool:
    return send_final_numbers_now(party_id)


def send_final_numbers_now(party_id: int, *, now: datetime | None = None) -> bool:
    """Email the hosts the party's final numbers if they are due and not sent yet;
    whether they went. The claim and the queued email commit together."""
    now = now or timezone.now()
    with transaction.atomic():
        if not due(now).filter(pk=party_id).update(final_numbers_sent_at=now):
            return False
        party = DinnerParty.objects.select_related("host").get(pk=party_id)
        hosts = [party.host, *party.cohosts.all()]
        notifications.send_each(
            [notifications.address_of(host) for host in hosts],
            subject=f"Final numbers for “{party.title}”",
            template="final_numbers",
            context=final_numbers(party),
        )
    return True


def unanswered_invitations(party: DinnerParty) -> list[str]:
    """Invitees who never replied (Invitation.objects.unanswered), by name, else
    address, in the order they were invited."""
    return [
        name or email
        for name, email in Invitation.objects.unanswered()
        .filter(party=party)
        .values_list("name", "email")
    ]


def final_numbers(party: DinnerParty) -> dict:
    """What the email says: the hosts' dinner summary, as the party page builds
    it (selectors.hosts_summary, the menu's clashes and coverage)."""
    guests = GuestList(party)
    extras = PartyExtras.of(party)
    table_needs = [needs for rsvp in guests.going for needs in needs_of_rsvp(rsvp)]
    going = guests.going
    return {
        "party": party,
        "summary": hosts_summary(party, guests),
        "guests_going": len(going),
        "plus_ones": sum(rsvp.plus_ones for rsvp in going),
        "menu": build_menu(
            dishes=extras.dishes,
            slots=extras.slots if party.potluck else [],
            viewer_needs=[],
            table_needs=table_needs,
        ),
        "coverage": coverage(dishes=extras.dishes, table_needs=table_needs),
        "maybe": [rsvp.guest.display_name for rsvp in guests.maybe],
        "waitlisted": [rsvp.guest.display_name for rsvp in guests.waitlisted],
        "not_answered": unanswered_invitations(party),
        "party_url": notifications.site_url(party.get_absolute_url()),
    }


def send_due(now: datetime | None = None) -> int:
    """Send every final numbers email that is due (the command); how many went."""
    now = now or timezone.now()
    ids = list(due(now).values_list("pk", flat=True))
    return sum(send_final_numbers_now(pk, now=now) for pk in ids)
