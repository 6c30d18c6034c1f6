"""The emails DinnerParty sends, as the people they go to read them.

Emails are enqueued on `transaction.on_commit`; tests run inside a transaction
that is never committed, so each act runs under
`django_capture_on_commit_callbacks(execute=True)`, which runs the callbacks as
a commit would (the immediate tasks backend then sends the mail at once).
"""

import logging
import smtplib
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP, DinnerParty, EmailDelivery, RSVPStatus
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import flash_messages, going

pytestmark = pytest.mark.django_db

GOING, MAYBE, DECLINED, WAITLISTED = (
    RSVPStatus.GOING,
    RSVPStatus.MAYBE,
    RSVPStatus.DECLINED,
    RSVPStatus.WAITLISTED,
)
HOSTILE_TITLE = '<script>alert("x")</script> & friends'
ESCAPED_TITLE = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends"


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what's inside as if its transaction committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def party_url(party: DinnerParty) -> str:
    return f"{settings.SITE_URL}{party.get_absolute_url()}"


def html_of(message: EmailMultiAlternatives) -> str:
    assert len(message.alternatives) == 1
    content, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    return content


def to(outbox, address: str) -> list[EmailMultiAlternatives]:
    return [message for message in outbox if address in message.to]


def only_email_to(outbox, address: str) -> EmailMultiAlternatives:
    messages = to(outbox, address)
    assert len(messages) == 1, [m.subject for m in messages]
    return messages[0]


def assert_links_to(message: EmailMultiAlternatives, url: str) -> None:
    assert url in message.body
    assert f'href="{url}"' in html_of(message)


def rsvp_post(client, party: DinnerParty, status: str, plus_ones: int = 0, note: str = ""):
    return client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": status, "plus_ones": plus_ones, "note": note},
    )


def reply(party, guest, status, plus_ones=0, note=""):
    return services.rsvp_submit(
        party=party, guest=guest, status=status, plus_ones=plus_ones, note=note
    )


# --- replies: confirmation to the guest, note to the host --------------------------


def test_going_reply_confirms_to_the_guest_and_tells_the_host(
    committing, mailoutbox, guest_client, guest, host, party
):
    with committing():
        response = rsvp_post(guest_client, party, GOING, plus_ones=1, note="I'll bring bread")

    assert response.status_code == 302
    assert len(mailoutbox) == 2
    confirmation = only_email_to(mailoutbox, guest.email)
    assert confirmation.to == [guest.email]
    assert confirmation.from_email == settings.DEFAULT_FROM_EMAIL
    assert confirmation.subject == f"You're going to “Paella night” · {party.when} · {party.venue}"
    assert "Hi Ben," in confirmation.body
    assert f"You're going to {party.describe()} with 1 plus-one." in confirmation.body
    assert f"Where: {party.venue}" in confirmation.body
    assert f"On the menu: {party.main_dish}" in confirmation.body
    assert f"going to {escape(party.describe())} with 1 plus-one." in html_of(confirmation)
    assert_links_to(confirmation, party_url(party))

    note = only_email_to(mailoutbox, host.email)
    assert note.to == [host.email]
    assert note.subject == (
        f"{guest.display_name} is going to “Paella night” · {party.when} · {party.venue}"
    )
    assert "Hi Ana," in note.body
    assert f'{guest.display_name} replied "Going" (+1) to "Paella night".' in note.body
    assert "Their note: I'll bring bread" in note.body
    assert "Seats taken: 2 of 4." in note.body
    html = html_of(note)
    assert f"{guest.display_name} replied “Going” (+1) to “Paella night”." in html
    assert "Their note: I&#x27;ll bring bread" in html
    assert "Seats taken: 2 of 4." in html
    assert_links_to(note, party_url(party))


@pytest.mark.parametrize(
    ("status", "status_label", "sentence", "headline"),
    [
        (MAYBE, "Maybe", "You said you might come to {describe}.", "You might come to"),
        (
            DECLINED,
            "Can't go",
            "You said you can't make it to {describe}.",
            "You can't make it to",
        ),
    ],
)
def test_maybe_and_declined_replies_are_confirmed_and_the_host_told(
    committing, mailoutbox, guest, host, party, status, status_label, sentence, headline
):
    with committing():
        reply(party, guest, status)

    confirmation = only_email_to(mailoutbox, guest.email)
    assert confirmation.subject == f"{headline} “Paella night” · {party.when} · {party.venue}"
    assert sentence.format(describe=party.describe()) in confirmation.body
    assert_links_to(confirmation, party_url(party))
    note = only_email_to(mailoutbox, host.email)
    assert f'replied "{status_label}" to "Paella night".' in note.body
    assert "Seats taken: 0 of 4." in note.body


def test_a_reply_to_a_full_table_is_confirmed_as_waitlisted(committing, mailoutbox, guest, host):
    party = DinnerPartyFactory(host=host, title="Tapas", seats=1)
    going(party, UserFactory())

    with committing():
        reply(party, guest, GOING)

    confirmation = only_email_to(mailoutbox, guest.email)
    assert (
        confirmation.subject == f"You're on the waitlist for “Tapas” · {party.when} · {party.venue}"
    )
    assert (
        f"The table for {party.describe()} is full, so you're on the waitlist." in confirmation.body
    )
    assert "on the waitlist" in html_of(confirmation)
    assert_links_to(confirmation, party_url(party))
    note = only_email_to(mailoutbox, host.email)
    assert 'replied "Waitlisted" to "Tapas".' in note.body


def test_the_host_hears_of_a_status_change_but_not_of_an_edited_note(
    committing, mailoutbox, guest, host, party
):
    reply(party, guest, GOING)  # not committed: sends nothing

    with committing():
        reply(party, guest, GOING, note="Running late")
    assert [m.to for m in mailoutbox] == [[guest.email]]

    mailoutbox.clear()
    with committing():
        reply(party, guest, MAYBE)

    assert sorted(m.to[0] for m in mailoutbox) == sorted([guest.email, host.email])
    note = only_email_to(mailoutbox, host.email)
    assert 'replied "Maybe" to "Paella night".' in note.body
    assert only_email_to(mailoutbox, guest.email).subject.startswith(
        "You might come to “Paella night” · "
    )


def test_each_email_describes_the_reply_it_confirms(committing, mailoutbox, guest, host, party):
    # Two replies whose emails go out after both (a worker running behind, say):
    # each still says what that reply was, not what the guest said last.
    with committing():
        reply(party, guest, GOING, plus_ones=1, note="Bringing bread")
        reply(party, guest, DECLINED)

    confirmations = to(mailoutbox, guest.email)
    assert [m.subject.split(" · ")[0] for m in confirmations] == [
        "You're going to “Paella night”",
        "You can't make it to “Paella night”",
    ]
    assert f"You're going to {party.describe()} with 1 plus-one." in confirmations[0].body
    assert "You said you can't make it" in confirmations[1].body
    notes = to(mailoutbox, host.email)
    assert "Seats taken: 2 of 4." in notes[0].body
    assert "Their note: Bringing bread" in notes[0].body
    assert "Seats taken: 0 of 4." in notes[1].body


def test_nothing_is_sent_before_the_commit(django_capture_on_commit_callbacks, mailoutbox, guest):
    party = DinnerPartyFactory(title="Paella night")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply(party, guest, GOING)

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_a_reply_rolled_back_sends_nothing(committing, mailoutbox, guest, party):
    def reply_then_fail():
        with transaction.atomic():
            reply(party, guest, GOING)
            raise RuntimeError("something later in the same transaction failed")

    with committing(), pytest.raises(RuntimeError):
        reply_then_fail()

    assert mailoutbox == []
    assert not RSVP.objects.filter(guest=guest).exists()


# --- waitlist promotion ------------------------------------------------------------------


def test_a_freed_seat_emails_the_promoted_guest(committing, mailoutbox, guest, host):
    party = DinnerPartyFactory(host=host, title="Tapas", seats=1)
    going(party, guest)
    waiting = UserFactory(first_name="Wendy", last_name="Wait")
    reply(party, waiting, GOING)

    with committing():
        reply(party, guest, DECLINED)

    promotion = only_email_to(mailoutbox, waiting.email)
    assert promotion.to == [waiting.email]
    assert promotion.subject == (
        f"You're off the waitlist for “Tapas” · {party.when} · {party.venue}"
    )
    assert "Hi Wendy," in promotion.body
    assert (
        "a seat opened up and you've been moved from the waitlist to the table at "
        f"{party.describe()}." in promotion.body
    )
    assert f"Where: {party.venue}" in promotion.body
    assert "moved from the waitlist to the table" in html_of(promotion)
    assert_links_to(promotion, party_url(party))
    # The guest who left and the host hear about the reply as usual.
    assert only_email_to(mailoutbox, guest.email).subject.startswith(
        "You can't make it to “Tapas” · "
    )
    assert 'replied "Can\'t go"' in only_email_to(mailoutbox, host.email).body


def test_more_seats_email_each_promoted_guest(committing, mailoutbox, host):
    party = DinnerPartyFactory(host=host, title="Tapas", seats=1)
    going(party, UserFactory())
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for waiting in (first, second, third):
        reply(party, waiting, GOING)

    with committing():
        services.party_update(party=party, changes={"seats": 3})

    assert sorted(m.to[0] for m in mailoutbox) == sorted([first.email, second.email])
    assert all(m.subject.startswith("You're off the waitlist for “Tapas” · ") for m in mailoutbox)


# --- changes of time or place --------------------------------------------------------------


@pytest.fixture
def party_with_every_reply(host):
    """A full party of two with one guest of each status, starting on a whole
    minute (as the edit form has it)."""
    starts_at = (timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0)
    party = DinnerPartyFactory(host=host, title="Paella night", seats=2, starts_at=starts_at)
    guests = {status: UserFactory(username=f"{status}-guest") for status in RSVPStatus.values}
    going(party, guests[GOING], plus_ones=1)
    reply(party, guests[WAITLISTED], GOING)
    reply(party, guests[MAYBE], MAYBE)
    reply(party, guests[DECLINED], DECLINED)
    party.refresh_from_db()
    assert RSVP.objects.get(guest=guests[WAITLISTED]).status == WAITLISTED
    return party, guests


def test_a_new_venue_emails_going_maybe_and_waitlisted_guests_but_not_declined_ones(
    committing, mailoutbox, party_with_every_reply, host
):
    party, guests = party_with_every_reply
    old_venue = party.venue

    with committing():
        services.party_update(party=party, changes={"venue": "12 Rue des Fleurs"})

    told = [guests[GOING].email, guests[MAYBE].email, guests[WAITLISTED].email]
    assert sorted(address for m in mailoutbox for address in m.to) == sorted(told)
    assert to(mailoutbox, guests[DECLINED].email) == []
    assert to(mailoutbox, host.email) == []
    for address in told:
        message = only_email_to(mailoutbox, address)
        assert message.to == [address]  # guests never see each other's addresses
        assert message.subject == (
            f"New place for “Paella night” · {party.when} · 12 Rue des Fleurs"
        )
        assert 'Ana changed the place of "Paella night".' in message.body
        assert f"Where: was {old_venue}\n       now 12 Rue des Fleurs" in message.body
        assert f"When: {party.when}\n" in message.body
        html = html_of(message)
        assert "Ana changed the place of “Paella night”." in html
        assert f'<span class="was">{escape(old_venue)}</span><br>now <strong>12 Rue des' in html
        assert_links_to(message, party_url(party))


def test_a_new_time_and_place_are_both_named(committing, mailoutbox, party_with_every_reply):
    party, guests = party_with_every_reply
    new_start = party.starts_at + timedelta(days=1, hours=2)
    old_when, old_venue = party.when, party.venue

    with committing():
        services.party_update(party=party, changes={"starts_at": new_start, "venue": "The barn"})

    party.refresh_from_db()
    message = only_email_to(mailoutbox, guests[GOING].email)
    assert message.subject == f"New time and place for “Paella night” · {party.when} · The barn"
    assert 'Ana changed the time and place of "Paella night".' in message.body
    # What it was, and what it is now.
    assert f"When: was {old_when}\n      now {party.when}" in message.body
    assert f"Where: was {old_venue}\n       now The barn" in message.body
    html = html_of(message)
    assert f'<span class="was">{old_when}</span><br>now <strong>{party.when}</strong>' in html
    assert "now <strong>The barn</strong>" in html


def test_a_change_through_the_edit_page_emails_the_guests(
    committing, mailoutbox, party_with_every_reply, host_client
):
    party, guests = party_with_every_reply
    response = host_client.get(reverse("parties:update", args=[party.pk]))
    data = {
        name: value
        for name, value in response.context["form"].initial.items()
        if name in response.context["form"].fields and value is not None  # (as a browser)
    }
    data["starts_at"] = data["starts_at"].strftime("%Y-%m-%dT%H:%M")
    data["venue"] = "The barn"

    with committing():
        response = host_client.post(reverse("parties:update", args=[party.pk]), data)

    assert response.status_code == 302
    assert len(mailoutbox) == 3
    message = only_email_to(mailoutbox, guests[MAYBE].email)
    assert message.subject == f"New place for “Paella night” · {party.when} · The barn"


def test_other_edits_email_nobody(committing, mailoutbox, party_with_every_reply):
    party, _guests = party_with_every_reply

    with committing():
        services.party_update(
            party=party,
            changes={
                "title": "Paella night",
                "description": "Bring a jumper",
                "venue": party.venue,
            },
        )

    assert mailoutbox == []


# --- cancellation ---------------------------------------------------------------------------


def test_deleting_a_party_emails_its_guests_but_not_declined_ones(
    committing, mailoutbox, party_with_every_reply, host, host_client
):
    party, guests = party_with_every_reply
    when, place = party.when, party.venue

    with committing():
        response = host_client.post(reverse("parties:delete", args=[party.pk]))

    assert response.status_code == 302
    assert not DinnerParty.objects.filter(pk=party.pk).exists()
    told = [guests[GOING].email, guests[MAYBE].email, guests[WAITLISTED].email]
    assert sorted(address for m in mailoutbox for address in m.to) == sorted(told)
    list_url = f"{settings.SITE_URL}{reverse('parties:list')}"
    for address in told:
        message = only_email_to(mailoutbox, address)
        assert message.to == [address]
        assert message.subject == f"Cancelled: “Paella night” · {when} · {place}"
        assert (
            f'Ana has cancelled "Paella night", which was planned for {when} in {place}.'
            in message.body
        )
        assert (
            f"Ana has cancelled “Paella night”, which was planned for {when} in {escape(place)}."
            in html_of(message)
        )
        # The party is gone, so the link leads to the other tables.
        assert_links_to(message, list_url)


def test_deleting_a_party_nobody_replied_to_emails_nobody(
    committing, mailoutbox, host_client, party
):
    with committing():
        host_client.post(reverse("parties:delete", args=[party.pk]))

    assert mailoutbox == []


# --- a failing mail server ---------------------------------------------------------------------


@pytest.fixture
def smtp_down(monkeypatch, caplog):
    def send(self, fail_silently=False):
        raise smtplib.SMTPException("451 mail server on fire")

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    return caplog  # at the levels the settings give (django.tasks: failures only)


def test_a_sent_email_logs_no_task_lines(committing, caplog, mailoutbox, guest_client, party):
    with committing():
        rsvp_post(guest_client, party, GOING)

    assert len(mailoutbox) == 2
    assert [r for r in caplog.records if r.name.startswith("django.tasks")] == []


def test_a_failing_mail_server_neither_loses_nor_rolls_back_the_reply(
    committing, smtp_down, mailoutbox, guest_client, guest, party
):
    with committing():
        response = rsvp_post(guest_client, party, GOING, plus_ones=2)

    assert response.status_code == 302
    assert response.url == party.get_absolute_url()
    rsvp = RSVP.objects.get(party=party, guest=guest)
    assert (rsvp.status, rsvp.plus_ones) == (GOING, 2)
    party.refresh_from_db()
    assert party.seats_taken == 3
    assert flash_messages(response) == [f"You're going to {party.describe()} with 2 plus-ones!"]
    assert mailoutbox == []
    # Each email's failure is recorded (and logged), not the task's: without a
    # queue (the immediate backend) nothing retries it. Retries: test_queue.py.
    failed = EmailDelivery.objects.values_list("template", "status", "last_error")
    assert sorted(failed) == [
        ("rsvp_confirmation", "failed", "SMTPException: 451 mail server on fire"),
        ("rsvp_host_note", "failed", "SMTPException: 451 mail server on fire"),
    ]
    failures = [r for r in smtp_down.records if r.name == "parties.notifications"]
    assert len(failures) == 2
    assert all(record.levelno == logging.WARNING for record in failures)


def test_a_failing_mail_server_does_not_stop_a_promotion(
    committing, smtp_down, mailoutbox, guest, host
):
    party = DinnerPartyFactory(host=host, seats=1)
    going(party, guest)
    waiting = UserFactory()
    reply(party, waiting, GOING)

    with committing():
        reply(party, guest, DECLINED)

    assert RSVP.objects.get(guest=waiting).status == GOING
    party.refresh_from_db()
    assert party.seats_taken == 1
    failed = EmailDelivery.objects.filter(status="failed").values_list("template", flat=True)
    assert sorted(failed) == ["promoted", "rsvp_confirmation", "rsvp_host_note"]


# --- user text in emails ---------------------------------------------------------------------


def test_html_in_a_title_is_escaped_in_the_html_body(committing, mailoutbox, host, guest):
    party = DinnerPartyFactory(host=host, title=HOSTILE_TITLE, seats=1)
    waiting = UserFactory()
    for act in (
        lambda: reply(party, guest, GOING, note="<img src=x onerror=alert(1)>"),
        lambda: reply(party, waiting, GOING),
        lambda: reply(party, guest, DECLINED),  # promotes `waiting`
        lambda: services.party_update(party=party, changes={"venue": "<b>The barn</b>"}),
        lambda: services.party_delete(party=party),
    ):
        with committing():
            act()

    kinds = {
        "You're going to",
        "is going to",
        "off the waitlist",
        "New place for",
        "Cancelled:",
    }
    assert {kind for kind in kinds for m in mailoutbox if kind in m.subject} == kinds
    for message in mailoutbox:
        html = html_of(message)
        assert "<script>" not in html, message.subject
        assert "<img" not in html
        assert "<b>" not in html
        assert ESCAPED_TITLE in html, message.subject
        # The plain-text body shows the title as typed.
        assert HOSTILE_TITLE in message.body, message.subject
    host_notes = to(mailoutbox, host.email)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in html_of(m) for m in host_notes)


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r"])
def test_a_subject_never_contains_a_line_break(committing, mailoutbox, host, line_break):
    party = DinnerPartyFactory(host=host, title=f"Paella{line_break}Bcc: everyone@example.com")
    guest = UserFactory(first_name=f"Ben{line_break}X-Evil: 1", last_name="Bell")
    RSVPFactory(party=party, status=MAYBE)
    for act in (
        lambda: reply(party, guest, GOING),
        lambda: services.party_update(party=party, changes={"venue": "The barn"}),
        lambda: services.party_delete(party=party),
    ):
        with committing():
            act()

    assert len(mailoutbox) == 6  # confirmation, host note, 2 changes, 2 cancellations
    for message in mailoutbox:
        assert "\n" not in message.subject
        assert "\r" not in message.subject
        assert "Paella Bcc: everyone@example.com" in message.subject
        # What goes on the wire has no header smuggled in by the title.
        serialised = message.message()
        assert serialised["Bcc"] is None
        assert serialised["X-Evil"] is None
    assert only_email_to(mailoutbox, host.email).subject.startswith(
        "Ben X-Evil: 1 Bell is going to “Paella Bcc: everyone@example.com” · "
    )
