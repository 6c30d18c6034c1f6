"""Calendars that update (issue 20, item 6): an end time, a stable UID, a SEQUENCE
that moves with every change of time or place, ORGANIZER and STATUS, and the
emails that carry the entry as text/calendar so calendar apps add, move and
cancel it. Every .ics goes through the `icalendar` parser."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from parties import notifications, services
from parties.models import DinnerParty, EmailDelivery, RSVPStatus
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import spaced_text
from parties.tests.test_forms import party_data

pytestmark = pytest.mark.django_db


def the_event(client, party):
    response = client.get(reverse("parties:calendar", args=[party.pk]))
    assert response.status_code == 200
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    return event


def calendar_of(message) -> tuple[str, Calendar]:
    """The text/calendar part of an email, as sent: its METHOD parameter and what it says."""
    parts = [
        part for part in message.message().walk() if part.get_content_type() == "text/calendar"
    ]
    assert len(parts) == 1, [part.get_content_type() for part in message.message().walk()]
    part = parts[0]
    return part.get_param("method"), Calendar.from_ical(part.get_payload(decode=True))


def only_event(cal: Calendar):
    (event,) = cal.walk("VEVENT")
    return event


@pytest.fixture
def now(time_machine):
    moment = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    return moment


# --- the end time ----------------------------------------------------------------------


def test_an_end_time_is_typed_in_the_partys_zone_and_shown_on_the_page(now, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-01-10T19:00", ends_at="2027-01-10T23:30"),
    )

    party = DinnerParty.objects.get()
    assert party.ends_at == datetime(2027, 1, 10, 22, 30, tzinfo=UTC)
    page = spaced_text(host_client.get(response.url))
    assert "Ends Sun 10 Jan, 23:30 CET" in page


def test_without_an_end_time_the_party_lasts_three_hours(now, host_client, guest_client):
    host_client.post(reverse("parties:create"), party_data(ends_at=""))
    party = DinnerParty.objects.get()

    event = the_event(guest_client, party)

    assert party.ends_at is None
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=3)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("2030-12-12T19:00", "The end must come after the start."),
        ("2030-12-12T18:00", "The end must come after the start."),
        ("2030-12-20T19:00", "End the party within a week of its start."),
        ("tomorrow night", "Enter a valid date/time."),
        ("<img src=x onerror=alert(1)>", "Enter a valid date/time."),
        ("2030-12-12T23:00" * 100, "Enter a valid date/time."),
    ],
)
def test_a_wrong_end_time_is_a_clear_error(now, host_client, typed, error):
    response = host_client.post(reverse("parties:create"), party_data(ends_at=typed))

    assert response.status_code == 200
    errors = response.context["form"].errors["ends_at"]
    assert errors == [error]
    assert not DinnerParty.objects.exists()


def test_an_end_time_the_clocks_skip_is_refused(now, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(starts_at="2027-03-27T20:00", ends_at="2027-03-28T02:30"),
    )

    assert response.context["form"].errors["ends_at"] == [
        "02:30 doesn't exist on that day in Europe/Paris: the clocks go forward. Pick another time."
    ]


# --- the .ics ------------------------------------------------------------------------


def test_the_ics_has_a_stable_uid_an_organizer_and_a_confirmed_status(guest_client, settings):
    settings.DEFAULT_FROM_EMAIL = "DinnerParty <hello@dinnerparty.example>"
    party = DinnerPartyFactory(host=UserFactory(first_name="Ana"))

    event = the_event(guest_client, party)

    assert str(event["UID"]) == f"party-{party.pk}@dinnerparty"
    assert event["SEQUENCE"] == 0
    assert str(event["ORGANIZER"]) == "mailto:hello@dinnerparty.example"
    assert event["ORGANIZER"].params["CN"] == "Ana"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_each_change_of_time_or_place_raises_the_sequence_and_keeps_the_uid(guest_client):
    party = DinnerPartyFactory()
    uid = str(the_event(guest_client, party)["UID"])

    services.party_update(party=party, changes={"starts_at": party.starts_at + timedelta(hours=1)})
    services.party_update(party=party, changes={"venue": "The barn"})
    services.party_update(party=party, changes={"ends_at": party.starts_at + timedelta(hours=5)})
    services.party_update(party=party, changes={"title": "Not a change of time or place"})

    event = the_event(guest_client, party)
    assert str(event["UID"]) == uid
    assert event["SEQUENCE"] == 3
    assert str(event["LOCATION"]) == "The barn"
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=5)


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime(2031, 7, 14, 18, 0, tzinfo=UTC),  # the far end of the five-year window
        datetime(2031, 12, 1, 18, 0, tzinfo=UTC),
        datetime(2093, 7, 14, 18, 0, tzinfo=UTC),  # stored by a script, past 2038
    ],
)
def test_the_vtimezone_covers_the_partys_date_whatever_the_year(guest_client, starts_at):
    party = DinnerPartyFactory(starts_at=starts_at, timezone="Europe/Paris")

    response = guest_client.get(reverse("parties:calendar", args=[party.pk]))
    cal = Calendar.from_ical(response.content)
    (zone,) = cal.walk("VTIMEZONE")
    event = only_event(cal)

    # The file's own rules, not Python's, give the offset on the party's date.
    summer = starts_at.month == 7
    local = zone.to_tz().fromutc(starts_at.replace(tzinfo=zone.to_tz()))
    assert local.utcoffset() == timedelta(hours=2 if summer else 1)
    assert event.decoded("DTSTART") == starts_at
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"


# --- the emails ----------------------------------------------------------------------


@pytest.fixture
def guest_going(party, guest, committing, mailoutbox):
    with committing():
        services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)
    return guest


def test_a_reply_confirmation_carries_the_entry_as_a_request(committing, mailoutbox, party, guest):
    with committing():
        services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)

    (confirmation,) = [m for m in mailoutbox if m.to == [guest.email]]
    method, cal = calendar_of(confirmation)
    event = only_event(cal)
    assert method == "REQUEST"
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"party-{party.pk}@dinnerparty"
    assert str(event["ATTENDEE"]) == f"mailto:{guest.email}"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(event["LOCATION"]) == party.venue


def test_a_guest_who_cant_go_gets_a_cancel_that_takes_the_entry_off(
    committing, mailoutbox, party, guest
):
    with committing():
        services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.DECLINED)

    (confirmation,) = [m for m in mailoutbox if m.to == [guest.email]]
    method, cal = calendar_of(confirmation)
    assert method == "CANCEL"
    assert str(only_event(cal)["STATUS"]) == "CANCELLED"


def test_a_change_email_carries_the_moved_entry_with_a_higher_sequence(
    guest_going, committing, mailoutbox, party
):
    mailoutbox.clear()
    new_start = (party.starts_at + timedelta(days=1)).replace(microsecond=0)

    with committing():
        services.party_update(party=party, changes={"starts_at": new_start})

    (message,) = mailoutbox
    method, cal = calendar_of(message)
    event = only_event(cal)
    assert method == "REQUEST"
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == new_start


def test_a_change_email_keeps_a_hidden_address_hidden_in_the_entry(committing, mailoutbox, party):
    DinnerParty.objects.filter(pk=party.pk).update(hide_address=True, area="Kreuzberg")
    party.refresh_from_db()
    waiting = UserFactory()
    RSVPFactory(party=party, guest=waiting, status=RSVPStatus.MAYBE)

    with committing():
        services.party_update(party=party, changes={"venue": "Secret street 1"})

    (message,) = mailoutbox
    _, cal = calendar_of(message)
    assert str(only_event(cal)["LOCATION"]) == "Kreuzberg"
    assert "Secret street" not in message.message().as_string()


def test_a_cancellation_email_carries_a_cancel_with_the_same_uid(
    guest_going, committing, mailoutbox, party
):
    mailoutbox.clear()
    uid = f"party-{party.pk}@dinnerparty"

    with committing():
        services.party_delete(party=party)

    (message,) = mailoutbox
    method, cal = calendar_of(message)
    event = only_event(cal)
    assert method == "CANCEL"
    assert str(event["UID"]) == uid
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_the_calendar_part_is_plain_text_so_a_retried_email_still_carries_it(mailoutbox, party):
    """A transient failure queues the composed message again (as JSON)."""
    message = {
        "to": ["ben@example.com"],
        "subject": "Your reply",
        "body": "Going",
        "html": "<p>Going</p>",
        "calendar": notifications.invitation(party, location=party.venue),
    }
    delivery = EmailDelivery.objects.create(template="t", to="ben@example.com", subject="s")

    notifications.deliver(delivery.pk, json.loads(json.dumps(message)), attempt=2)

    method, cal = calendar_of(mailoutbox[0])
    assert method == "REQUEST"
    assert str(only_event(cal)["SUMMARY"]) == party.title
