"""Issue 23: an email goes out in its recipient's language, not the sender's.

A member's is on their profile (blank: English, the site's); someone without an
account gets the language of the request that caused the email. The task
activates it around the whole email, which says so in its Content-Language
header; the dates in it are already in that language (Django ships the day and
month names), whatever our own catalogues hold yet.
"""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties import notifications, services
from parties.models import RSVPStatus
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import client_for

pytestmark = pytest.mark.django_db

# A Friday in December, 20:00 in Berlin.
FRIDAY_EVENING = datetime(2027, 12, 17, 19, 0, tzinfo=UTC)


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def english_host(db):
    return UserFactory(username="harriet", first_name="Harriet", language="en")


@pytest.fixture
def party(english_host):
    return DinnerPartyFactory(
        host=english_host,
        title="Fondue",
        starts_at=FRIDAY_EVENING,
        timezone="Europe/Berlin",
        seats=1,
    )


def only_email_to(outbox, address: str):
    messages = [message for message in outbox if address in message.to]
    assert len(messages) == 1, [message.subject for message in messages]
    return messages[0]


def language_of(message) -> str:
    return message.extra_headers["Content-Language"]


def test_a_german_guest_s_confirmation_is_german_while_the_english_host_s_note_is_english(
    committing, mailoutbox, party, english_host
):
    guest = UserFactory(first_name="Lena", language="de")

    with committing():
        services.rsvp_submit(
            party=party, guest=guest, status=RSVPStatus.GOING, plus_ones=0, note=""
        )

    to_guest = only_email_to(mailoutbox, guest.email)
    to_host = only_email_to(mailoutbox, english_host.email)
    assert language_of(to_guest) == "de"
    assert "Fr 17. Dez, 20:00 CET" in to_guest.subject  # the date as German writes it
    assert language_of(to_host) == "en"
    assert "Fri 17 Dec, 20:00 CET" in to_host.subject


def test_a_guest_without_a_saved_language_is_written_to_in_english(committing, mailoutbox, party):
    guest = UserFactory(language="")

    with committing():
        services.rsvp_submit(
            party=party, guest=guest, status=RSVPStatus.MAYBE, plus_ones=0, note=""
        )

    assert language_of(only_email_to(mailoutbox, guest.email)) == settings.LANGUAGE_CODE


def test_the_sender_s_language_does_not_leak_into_the_guests_emails(
    committing, mailoutbox, party, english_host
):
    """A host browsing in Portuguese cancels: each guest hears in their own."""
    french = UserFactory(language="fr")
    spanish = UserFactory(language="es")
    for guest in (french, spanish):
        RSVPFactory(party=party, guest=guest, status=RSVPStatus.MAYBE)
    host_client = client_for(english_host)
    host_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt"
    english_host.language = ""
    english_host.save()

    with committing():
        host_client.post(reverse("parties:delete", args=[party.pk]))

    to_french = only_email_to(mailoutbox, french.email)
    to_spanish = only_email_to(mailoutbox, spanish.email)
    assert language_of(to_french) == "fr"
    assert "ven. 17 déc. à 20:00 CET" in to_french.subject  # the date as French writes it
    assert language_of(to_spanish) == "es"
    assert "dic" in to_spanish.subject.lower()


def test_a_message_to_the_guests_goes_to_each_in_their_own_language(
    committing, mailoutbox, party, english_host
):
    german, english = UserFactory(language="de"), UserFactory(language="")
    for guest in (german, english):
        RSVPFactory(party=party, guest=guest, status=RSVPStatus.MAYBE)

    with committing():
        services.announce(party=party, author=english_host, audience="all", text="Bring boots")

    assert language_of(only_email_to(mailoutbox, german.email)) == "de"
    assert language_of(only_email_to(mailoutbox, english.email)) == "en"


def test_an_invitation_to_an_address_goes_out_in_the_language_of_the_request_that_sent_it(
    committing, mailoutbox, party, english_host
):
    client = client_for(english_host)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    english_host.language = ""
    english_host.save()

    with committing():
        response = client.post(
            reverse("parties:invitations", args=[party.pk]),
            {"invite-addresses": "Zoé <zoe@example.com>"},
        )

    assert response.status_code == 302
    assert language_of(only_email_to(mailoutbox, "zoe@example.com")) == "fr"


def test_a_task_without_a_language_writes_in_the_site_s(committing, mailoutbox, party):
    """Tasks queued before this change carry no language: English, never a crash."""
    notifications.send_party_cancelled_email.call(
        ["old@example.com"], "Fondue", "Fri 17 Dec, 20:00 CET", "Harriet"
    )

    message = only_email_to(mailoutbox, "old@example.com")
    assert language_of(message) == "en"
    assert "Fri 17 Dec, 20:00 CET" in message.subject


def test_the_calendar_feed_is_written_in_its_owner_s_language(english_host, party):
    """No cookie comes with a calendar app: the feed speaks the owner's language,
    and only its text (the protocol fields stay as they are)."""
    from django.test import Client

    english_host.language = "de"
    english_host.save()
    token = services.calendar_feed_token(user=english_host)

    body = Client().get(reverse("calendar_feed", args=[token])).content.decode()

    assert "BEGIN:VEVENT" in body
    assert "STATUS:CONFIRMED" in body
    assert "SUMMARY:Fondue" in body


def test_a_guest_moved_up_from_the_waitlist_reads_the_notice_in_their_own_language(party):
    """The notice is written when someone else frees the seat (in English here),
    and shown on the German guest's next page: it is written in German."""
    from parties.models import Notice

    english_guest = UserFactory(language="en")
    german_guest = UserFactory(language="de")
    services.rsvp_submit(party=party, guest=english_guest, status=RSVPStatus.GOING)
    services.rsvp_submit(party=party, guest=german_guest, status=RSVPStatus.GOING)  # waitlisted

    services.rsvp_submit(party=party, guest=english_guest, status=RSVPStatus.DECLINED)

    (notice,) = Notice.objects.filter(user=german_guest)
    assert notice.text.startswith("Du bist von der Warteliste")
    assert "Fr 17. Dez, 20:00 CET" in notice.text
