"""`manage.py send_reminders`, run by cron: going guests of parties starting in
the next 24 hours get one reminder per party, however often it runs."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.test import TestCase

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP, RSVPStatus
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import going

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2030, 1, 5, 12, 0, tzinfo=dt.UTC)


def send_reminders() -> str:
    """Run the command as cron would: its transactions commit (so emails go)."""
    out = StringIO()
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_reminders", stdout=out)
    return out.getvalue().strip()


def recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def reply(party, guest, status, plus_ones=0):
    return services.rsvp_submit(party=party, guest=guest, status=status, plus_ones=plus_ones)


@pytest.fixture
def traveller():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ana(db):
    return UserFactory(username="ana", first_name="Ana")


def test_a_going_guest_is_reminded_once_with_the_party_details(traveller, mailoutbox, ana):
    party = DinnerPartyFactory(
        host=ana,
        title="Paella night",
        starts_at=NOW + dt.timedelta(hours=6),
        venue="12 Rue des Fleurs",
        main_dish="Paella",
    )
    guest = UserFactory(first_name="Ben", last_name="Bell")
    going(party, guest, plus_ones=2)

    assert send_reminders() == "Sent 1 reminder."

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [guest.email]
    assert message.subject == "Reminder: “Paella night” · Sat 5 Jan, 19:00 CET · 12 Rue des Fleurs"
    assert party.when == "Sat 5 Jan, 19:00 CET"
    assert "Hi Ben," in message.body
    assert (
        f"A reminder: {party.describe()} is coming up (you're bringing 2 plus-ones)."
        in message.body
    )
    assert "Where: 12 Rue des Fleurs" in message.body
    assert "On the menu: Paella" in message.body
    url = f"{settings.SITE_URL}{party.get_absolute_url()}"
    assert f"See the party: {url}" in message.body
    content, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{url}"' in content
    assert "<strong>Where:</strong> 12 Rue des Fleurs" in content
    assert RSVP.objects.get(guest=guest).reminder_sent_at == NOW

    mailoutbox.clear()
    assert send_reminders() == "Sent 0 reminders."
    assert mailoutbox == []


def test_only_going_guests_of_parties_in_the_next_24_hours_are_reminded(traveller, mailoutbox, ana):
    soon = DinnerPartyFactory(host=ana, starts_at=NOW + dt.timedelta(hours=3), seats=2)
    edge = DinnerPartyFactory(host=ana, starts_at=NOW + dt.timedelta(hours=24))
    later = DinnerPartyFactory(host=ana, starts_at=NOW + dt.timedelta(hours=30))
    started = DinnerPartyFactory(host=ana, starts_at=NOW - dt.timedelta(minutes=30))
    a, b, c, d, e, f, g = (UserFactory(username=name) for name in "abcdefg")
    going(soon, a, plus_ones=1)  # fills the table
    assert reply(soon, b, RSVPStatus.GOING).status == RSVPStatus.WAITLISTED
    reply(soon, c, RSVPStatus.MAYBE)
    reply(soon, d, RSVPStatus.DECLINED)
    going(edge, e)
    going(later, f)
    going(later, a)
    RSVPFactory(party=started, guest=g, status=RSVPStatus.GOING)

    assert send_reminders() == "Sent 2 reminders."
    assert recipients(mailoutbox) == sorted([a.email, e.email])
    assert {m.subject for m in mailoutbox} == {
        f"Reminder: “{soon.title}” · {soon.when} · {soon.venue}",
        f"Reminder: “{edge.title}” · {edge.when} · {edge.venue}",
    }

    mailoutbox.clear()
    assert send_reminders() == "Sent 0 reminders."
    assert mailoutbox == []

    # Seven hours on, the later party is within 24 hours; the others were done
    # (or have started).
    traveller.shift(dt.timedelta(hours=7))
    assert send_reminders() == "Sent 2 reminders."
    assert recipients(mailoutbox) == sorted([a.email, f.email])
    assert {m.subject for m in mailoutbox} == {
        f"Reminder: “{later.title}” · {later.when} · {later.venue}"
    }

    mailoutbox.clear()
    traveller.shift(dt.timedelta(minutes=15))
    assert send_reminders() == "Sent 0 reminders."
    assert mailoutbox == []


def test_a_party_just_beyond_24_hours_waits_for_the_next_run(traveller, mailoutbox, ana):
    party = DinnerPartyFactory(host=ana, starts_at=NOW + dt.timedelta(hours=24, minutes=1))
    guest = UserFactory()
    going(party, guest)

    assert send_reminders() == "Sent 0 reminders."
    traveller.shift(dt.timedelta(minutes=15))
    assert send_reminders() == "Sent 1 reminder."
    assert recipients(mailoutbox) == [guest.email]


def test_a_guest_who_joins_after_a_run_is_reminded_on_the_next(traveller, mailoutbox, ana):
    party = DinnerPartyFactory(host=ana, starts_at=NOW + dt.timedelta(hours=5))
    early, late, waverer = UserFactory(), UserFactory(), UserFactory()
    going(party, early)
    going(party, waverer)
    assert send_reminders() == "Sent 2 reminders."
    mailoutbox.clear()

    traveller.shift(dt.timedelta(minutes=15))
    going(party, late)
    reply(party, waverer, RSVPStatus.MAYBE)

    assert send_reminders() == "Sent 1 reminder."
    assert recipients(mailoutbox) == [late.email]


def test_a_guest_who_stops_going_before_the_run_is_not_reminded(traveller, mailoutbox, ana):
    party = DinnerPartyFactory(host=ana, starts_at=NOW + dt.timedelta(hours=5))
    guest = UserFactory()
    going(party, guest)
    reply(party, guest, RSVPStatus.DECLINED)

    assert send_reminders() == "Sent 0 reminders."
    assert mailoutbox == []


def test_nothing_to_send_says_so(traveller, mailoutbox):
    assert send_reminders() == "Sent 0 reminders."
    assert mailoutbox == []
