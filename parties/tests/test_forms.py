"""The party form's dates: from now to five years ahead, and never a server error
at the ends of the calendar, on the create and edit pages and in the admin."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from parties.models import DinnerParty
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import flash_messages

pytestmark = pytest.mark.django_db

IN_THE_PAST = "Pick a time in the future."
TOO_FAR = "Pick a date within the next 5 years."

# Wall-clock times whose UTC equivalent falls outside the years 1-9999.
ENDS_OF_THE_CALENDAR = [
    ("9999-12-31T23:59", "America/Los_Angeles", TOO_FAR),
    ("9999-12-31T23:59", "UTC", TOO_FAR),
    ("9999-12-31T23:59", "Pacific/Kiritimati", TOO_FAR),
    ("0001-01-01T00:30", "Asia/Tokyo", IN_THE_PAST),
    ("0001-01-01T00:00", "America/Los_Angeles", IN_THE_PAST),
]


def party_data(**overrides) -> dict[str, str]:
    return {
        "title": "Cassoulet night",
        "starts_at": "2030-12-12T19:00",
        "timezone": "Europe/Paris",
        "venue": "Rue des Martyrs 8, Paris",
        "main_dish": "Cassoulet",
        "seats": "6",
        "description": "",
        "visibility": "public",
    } | overrides


def starts_at_errors(response) -> list[str]:
    assert response.status_code == 200
    assert "Please fix the errors below." in flash_messages(response)
    return response.context["form"].errors["starts_at"]


@pytest.fixture
def now(time_machine):
    moment = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    time_machine.move_to(moment, tick=False)
    return moment


@pytest.mark.parametrize(("starts_at", "zone", "error"), ENDS_OF_THE_CALENDAR)
def test_creating_a_party_at_the_ends_of_the_calendar_is_a_form_error(
    host_client, starts_at, zone, error
):
    response = host_client.post(
        reverse("parties:create"), party_data(starts_at=starts_at, timezone=zone)
    )

    assert starts_at_errors(response) == [error]
    assert not DinnerParty.objects.exists()


@pytest.mark.parametrize(("starts_at", "zone", "error"), ENDS_OF_THE_CALENDAR)
def test_moving_a_party_to_the_ends_of_the_calendar_is_a_form_error(
    party, host_client, starts_at, zone, error
):
    before = party.starts_at

    response = host_client.post(
        reverse("parties:update", args=[party.pk]),
        party_data(title=party.title, starts_at=starts_at, timezone=zone, seats=party.seats),
    )

    assert starts_at_errors(response) == [error]
    party.refresh_from_db()
    assert (party.starts_at, party.timezone) == (before, "Europe/Paris")


def test_a_party_may_be_planned_up_to_five_years_ahead(now, host_client):
    response = host_client.post(
        reverse("parties:create"), party_data(starts_at="2031-12-05T12:00", timezone="UTC")
    )

    assert response.status_code == 302
    assert DinnerParty.objects.get().starts_at == datetime(2031, 12, 5, 12, 0, tzinfo=UTC)


def test_a_party_more_than_five_years_ahead_is_refused(now, host_client):
    response = host_client.post(
        reverse("parties:create"), party_data(starts_at="2031-12-05T12:01", timezone="UTC")
    )

    assert starts_at_errors(response) == [TOO_FAR]


def test_editing_a_party_without_moving_it_keeps_its_time(now, host, host_client):
    party = DinnerPartyFactory(host=host, starts_at=datetime(2027, 3, 1, 18, 0, tzinfo=UTC))

    response = host_client.post(
        reverse("parties:update", args=[party.pk]),
        party_data(title="Renamed", starts_at="2027-03-01T19:00", seats=party.seats),
    )

    assert response.status_code == 302
    party.refresh_from_db()
    assert (party.title, party.starts_at) == ("Renamed", datetime(2027, 3, 1, 18, 0, tzinfo=UTC))
