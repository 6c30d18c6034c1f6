"""The .ics file never fails, even for a party at the very ends of the calendar
(stored before the form kept dates to the next five years, or by a script)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db


def the_event(client, party):
    response = client.get(reverse("parties:calendar", args=[party.pk]))
    assert response.status_code == 200
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    return event


def length(event) -> timedelta:
    if "DTEND" in event:
        return event.decoded("DTEND") - event.decoded("DTSTART")
    return event.decoded("DURATION")


def test_a_party_ending_after_the_year_9999_lasts_three_hours_all_the_same(guest_client):
    party = DinnerPartyFactory(starts_at=datetime(9999, 12, 31, 22, 0, tzinfo=UTC), timezone="UTC")

    event = the_event(guest_client, party)

    assert event.decoded("DTSTART") == party.starts_at
    assert "DTEND" not in event
    assert length(event) == timedelta(hours=3)


@pytest.mark.parametrize(
    ("starts_at", "zone"),
    [
        (datetime(9999, 12, 31, 20, 0, tzinfo=UTC), "Asia/Tokyo"),  # 10000-01-01 there
        (datetime(1, 1, 1, 0, 0, tzinfo=UTC), "America/Los_Angeles"),  # the year 0 there
    ],
)
def test_a_party_whose_local_time_is_off_the_calendar_is_given_in_utc(
    guest_client, starts_at, zone
):
    party = DinnerPartyFactory(starts_at=starts_at, timezone=zone)

    event = the_event(guest_client, party)

    start = event.decoded("DTSTART")
    assert start == starts_at
    assert start.utcoffset() == timedelta(0)
    assert length(event) == timedelta(hours=3)


def test_an_ordinary_party_still_ends_three_hours_after_it_starts_in_its_zone(guest_client):
    party = DinnerPartyFactory(
        starts_at=datetime(2030, 12, 12, 18, 0, tzinfo=UTC), timezone="Europe/Paris"
    )

    event = the_event(guest_client, party)

    assert event["DTSTART"].params["TZID"] == event["DTEND"].params["TZID"] == "Europe/Paris"
    assert length(event) == timedelta(hours=3)
