"""Messages to guests: emailed to exactly the chosen audience, shown on the
party page (newest first) to the guests they were meant for, at most
ANNOUNCEMENTS_PER_DAY in any 24 hours per party, and escaped like all text."""

import html
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import Announcement, RSVPStatus
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, flash_messages, going, page_text

pytestmark = pytest.mark.django_db

LIMIT = "You've sent 5 messages today — that's the limit, so guests don't get swamped."
SENT = "Your message is posted on the party page and on its way to your guests."
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def guests(party):
    """One guest of each kind: going, maybe, waitlisted, declined."""
    party.seats = 1
    party.save()
    people = {
        status: UserFactory(username=status, first_name=status.capitalize(), last_name="")
        for status in RSVPStatus.values
    }
    going(party, people["going"])
    services.rsvp_submit(party=party, guest=people["maybe"], status="maybe")
    services.rsvp_submit(party=party, guest=people["waitlisted"], status="going")
    services.rsvp_submit(party=party, guest=people["declined"], status="declined")
    assert {r.guest.username: r.status for r in party.rsvps.all()} == {s: s for s in people}
    return people


def announce(client, party, text="Bring a jumper, we're eating outside", audience="going"):
    return client.post(
        reverse("parties:announce", args=[party.pk]), {"audience": audience, "text": text}
    )


def quietly(party, count: int, author) -> None:
    for i in range(count):
        services.announce(party=party, author=author, audience="going", text=f"Note {i}")


@pytest.mark.parametrize(
    ("audience", "reached"),
    [
        ("going", {"going"}),
        ("maybe", {"maybe"}),
        ("waitlisted", {"waitlisted"}),
        ("all", {"going", "maybe", "waitlisted"}),
    ],
)
def test_a_message_is_emailed_to_exactly_its_audience(
    committing, mailoutbox, party, guests, host, host_client, audience, reached
):
    with committing():
        response = announce(host_client, party, audience=audience)

    assert response.status_code == 302
    assert SENT in flash_messages(response)
    recipients = sorted(address for message in mailoutbox for address in message.to)
    assert recipients == sorted(guests[status].email for status in reached)
    assert all(len(message.to) == 1 for message in mailoutbox)  # nobody sees the others
    assert host.email not in recipients
    for message in mailoutbox:
        assert message.subject == (
            f"A message from {host.display_name} about “Paella night” · {party.when} · "
            f"{party.venue}"
        )
        assert "Bring a jumper, we're eating outside" in message.body
        assert party.get_absolute_url() in message.body


@pytest.mark.parametrize(
    ("audience", "shown_to"),
    [
        ("going", {"going"}),
        ("maybe", {"maybe"}),
        ("waitlisted", {"waitlisted"}),
        ("all", {"going", "maybe", "waitlisted"}),
    ],
)
def test_a_message_is_shown_only_to_its_audience(party, guests, host, audience, shown_to):
    services.announce(party=party, author=host, audience=audience, text="Doors open at 7")

    for status, guest in guests.items():
        text = page_text(client_for(guest).get(party.get_absolute_url()))
        assert ("Doors open at 7" in text) is (status in shown_to), status
    outsider = page_text(client_for(UserFactory()).get(party.get_absolute_url()))
    assert "Doors open at 7" not in outsider
    assert "Messages from the hosts" not in outsider


def test_messages_are_shown_newest_first(party, guests, host, host_client):
    start = timezone.now()
    for hours, audience, text in [
        (0, "going", "First: bring a jumper"),
        (1, "maybe", "Second: still a seat or two"),
        (2, "all", "Third: we start at 8"),
        (3, "going", "Fourth: parking is round the back"),
    ]:
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            services.announce(party=party, author=host, audience=audience, text=text)

    with time_machine.travel(start + timedelta(hours=4), tick=False):
        seen = page_text(client_for(guests["going"]).get(party.get_absolute_url()))
        hosts_view = page_text(host_client.get(party.get_absolute_url()))

    order = ["Fourth", "Third", "First"]
    assert [seen.index(word) for word in order] == sorted(seen.index(word) for word in order)
    assert "Second" not in seen
    assert f"Fourth: parking is round the back {host.display_name} · an hour ago" in seen
    # The hosts see every message, each with whom it went to.
    assert "Second: still a seat or two" in hosts_view
    assert "to guests who said maybe" in hosts_view
    assert "to everyone who replied (not those who can't go)" in hosts_view
    assert hosts_view.index("Fourth") < hosts_view.index("Second") < hosts_view.index("First")


def test_the_sixth_message_in_a_day_is_refused(committing, mailoutbox, party, guests, host_client):
    for i in range(5):
        assert announce(host_client, party, text=f"Note {i}").status_code == 302

    with committing():
        response = announce(host_client, party, text="One too many")

    assert response.status_code == 400
    assert LIMIT in page_text(response)
    assert "Try again tomorrow." in page_text(response)
    assert "One too many" in response.content.decode()  # still in the form
    assert Announcement.objects.count() == 5
    assert mailoutbox == []


def test_the_limit_is_per_party(party, guests, host, host_client):
    quietly(party, 5, host)
    other = DinnerPartyFactory(host=host)

    assert announce(host_client, other).status_code == 302
    assert announce(host_client, party).status_code == 400


def test_the_limit_counts_every_host_of_the_party(party, guests, host):
    cohost = UserFactory()
    services.cohost_add(party=party, user=cohost)
    quietly(party, 3, host)
    quietly(party, 2, cohost)

    response = announce(client_for(cohost), party)

    assert response.status_code == 400
    assert LIMIT in page_text(response)


def test_the_24_hour_window_slides(party, guests, host, host_client):
    # The host kept logged in: without it, a session unused for 12 hours ends.
    session = host_client.session
    session.set_expiry(settings.SESSION_COOKIE_AGE)
    session.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        quietly(party, 1, host)
    with time_machine.travel(start + timedelta(hours=10), tick=False):
        quietly(party, 4, host)

    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        assert announce(host_client, party, text="Too soon").status_code == 400
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        # The first message is more than a day old: one more may go.
        assert announce(host_client, party, text="A day later").status_code == 302
        assert announce(host_client, party, text="And another").status_code == 400
    with time_machine.travel(start + timedelta(hours=34, minutes=1), tick=False):
        assert announce(host_client, party, text="Later still").status_code == 302

    assert Announcement.objects.count() == 7
    assert not Announcement.objects.filter(text__in=["Too soon", "And another"]).exists()


def test_message_text_is_escaped_on_the_page_and_in_emails(
    committing, mailoutbox, party, guests, host_client
):
    with committing():
        response = announce(host_client, party, text=f"{HOSTILE}\nSecond line", audience="all")
    assert response.status_code == 302

    escaped = html.escape(HOSTILE)
    for client in (host_client, client_for(guests["going"])):
        markup = client.get(party.get_absolute_url()).content.decode()
        assert "<script>alert" not in markup
        assert "<b>bold</b>" not in markup
        assert f"{escaped}<br>Second line" in markup
    assert len(mailoutbox) == 3
    for message in mailoutbox:
        ((body, _mimetype),) = message.alternatives
        assert "<script>alert" not in body
        assert "<b>bold</b>" not in body
        assert f"{escaped}<br>Second line" in body
        # The plain-text part is plain text: shown as typed, never run as HTML.
        assert f"{HOSTILE}\nSecond line" in message.body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"audience": "going", "text": ""}, "text"),
        ({"audience": "going", "text": "x" * 1001}, "text"),
        ({"audience": "declined", "text": "Hi"}, "audience"),
        ({"audience": "everyone", "text": "Hi"}, "audience"),
        ({"text": "Hi"}, "audience"),
    ],
)
def test_bad_messages_are_refused(committing, mailoutbox, party, guests, host_client, data, field):
    with committing():
        response = host_client.post(reverse("parties:announce", args=[party.pk]), data)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Announcement.objects.exists()
    assert mailoutbox == []


def test_a_message_of_1000_characters_is_fine(party, guests, host_client):
    assert announce(host_client, party, text="y" * 1000).status_code == 302
    assert Announcement.objects.get().text == "y" * 1000
