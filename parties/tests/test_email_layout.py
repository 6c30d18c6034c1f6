"""Every email reads like a person wrote it: one layout (templates/emails/base.html
and base.txt) that works in dark mode and on a phone, a greeting by name, and the
party's date and place in the subject line. Each email is produced the way the
site produces it (a reply, a promotion, a change, a cancellation, a reminder, a
host's message) and read as sent."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import verification
from accounts.tests.factories import UserFactory
from parties import notifications, services
from parties.models import RSVPStatus
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import going

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_party_email(committing, mailoutbox):
    """One email of each kind about a party: (kind, recipient, message)."""
    host = UserFactory(username="ana", first_name="Ana", last_name="Lima")
    # Usernames like this are what "Hi rev1160" came from: the greeting uses names.
    guest = UserFactory(username="rev1160", first_name="Ben", last_name="Okafor")
    nameless = UserFactory(username="zx-42", first_name="", last_name="")
    party = DinnerPartyFactory(
        host=host,
        title="Supper",
        seats=1,
        venue="Wiener Straße 14",
        area="Kreuzberg",
        starts_at=timezone.now() + timedelta(hours=6),
    )
    sent = []

    def collect(kind: str):
        for message in mailoutbox:
            sent.append((kind, message))
        mailoutbox.clear()

    with committing():
        rsvp = services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING).rsvp
    collect("reply")
    with committing():
        services.rsvp_submit(party=party, guest=nameless, status=RSVPStatus.GOING)
    collect("waitlisted")
    with committing():
        services.party_update(party=party, changes={"seats": 2})
    collect("promoted")
    with committing():
        services.party_update(
            party=party,
            changes={"starts_at": party.starts_at + timedelta(hours=1), "venue": "The barn"},
        )
    collect("changed")
    notifications.send_reminder_email.call(rsvp.pk)
    collect("reminder")
    with committing():
        services.announce(party=party, author=host, text="Bring a jumper", audience="going")
    collect("announcement")
    place = party.venue
    when = party.when
    with committing():
        services.party_delete(party=party)
    collect("cancelled")
    return {"sent": sent, "when": when, "place": place, "party": party}


def test_every_party_email_names_the_partys_date_and_place_in_its_subject(every_party_email):
    sent = every_party_email["sent"]

    assert {kind for kind, _message in sent} == {
        "reply",
        "waitlisted",
        "promoted",
        "changed",
        "reminder",
        "announcement",
        "cancelled",
    }
    for kind, message in sent:
        assert "“Supper”" in message.subject, kind
        assert re.search(r" · \w{3} \d+ \w{3}, \d\d:\d\d \w+ · ", message.subject), (
            kind,
            message.subject,
        )
        assert message.subject.endswith(("Wiener Straße 14", "The barn", "Kreuzberg")), (
            kind,
            message.subject,
        )


def test_every_email_greets_by_name_never_by_username(every_party_email):
    for kind, message in every_party_email["sent"]:
        html = message.alternatives[0][0]
        assert "rev1160" not in message.body, kind
        assert "rev1160" not in html, kind
        assert "zx-42" not in message.body.split("\n")[0], kind
        first_line = message.body.split("\n")[0]
        assert first_line in {"Hi Ben,", "Hi Ana,", "Hello,"}, (kind, first_line)
        greeting = re.search(r"<p>(Hi \w+,|Hello,)</p>", html)
        assert greeting, kind
        assert greeting.group(1) == first_line, kind


def test_the_host_hears_the_guests_display_name_not_their_username(every_party_email):
    notes = [
        m
        for kind, m in every_party_email["sent"]
        if kind == "reply" and m.body.startswith("Hi Ana,")
    ]

    assert len(notes) == 1
    assert notes[0].subject.startswith("Ben Okafor is going to “Supper” · ")
    assert 'Ben Okafor replied "Going" to "Supper".' in notes[0].body


def test_every_email_shares_one_layout_that_works_in_dark_mode_and_on_a_phone(
    every_party_email, committing
):
    sent = [message for _kind, message in every_party_email["sent"]]
    # The account emails share it too.
    user = UserFactory(email_confirmed_at=None)
    mail.outbox.clear()
    verification.send_confirmation_email.call(user.pk)
    sent += mail.outbox

    for message in sent:
        html = message.alternatives[0][0]
        assert message.alternatives[0][1] == "text/html"
        assert '<meta name="color-scheme" content="light dark">' in html
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "@media (prefers-color-scheme: dark)" in html
        assert "@media (max-width: 600px)" in html
        assert '<p class="brand">DinnerParty</p>' in html
        assert html.count("<body>") == 1
        # The plain-text twin says the same, without markup, and ends the same way.
        assert "<" not in message.body, message.subject
        assert "See you at the table,\nDinnerParty" in message.body or (
            "Thanks,\nDinnerParty" in message.body
        )
        assert "You get this email because of your account at DinnerParty" in message.body


def test_the_dark_scheme_sets_both_text_and_background_colours():
    html = render_to_string("emails/base.html", {"name": "Ana", "site_url": "https://x.test"})
    dark = html.split("@media (prefers-color-scheme: dark)", 1)[1].split("@media", 1)[0]
    # Text and background are set together, so a mail app that darkens one
    # never leaves light text on a light background or dark on dark.
    for rule in re.findall(r"\{([^{}]*)\}", dark):
        if "background" in rule and "color:" in rule.replace("background-color", ""):
            break
    else:
        pytest.fail("no dark rule sets text and background together")
    assert "#ffffff" not in dark


def test_a_change_of_time_says_what_it_was_and_what_it_is_now(every_party_email):
    changed = [m for kind, m in every_party_email["sent"] if kind == "changed"]

    assert changed
    for message in changed:
        assert re.search(r"When: was .+\n\s+now .+", message.body), message.body
        assert "Where: was" in message.body or "Where: Kreuzberg" in message.body


def test_a_guest_not_at_the_table_is_not_told_the_old_or_new_exact_address(committing, mailoutbox):
    party = DinnerPartyFactory(
        seats=1, venue="Wiener Straße 14", area="Kreuzberg", hide_address=True, title="Supper"
    )
    going(party, UserFactory())
    waiting = UserFactory(first_name="Wendy")
    services.rsvp_submit(party=party, guest=waiting, status=RSVPStatus.GOING)

    with committing():
        services.party_update(party=party, changes={"venue": "The barn"})

    message = [m for m in mailoutbox if waiting.email in m.to][0]
    for secret in ("Wiener", "barn"):
        assert secret not in message.body
        assert secret not in message.subject
    assert message.subject.endswith(" · Kreuzberg")
    assert "Where: Kreuzberg" in message.body
