"""Parties stored at the very ends of the calendar (before the forms kept dates to
the next five years, or by a script) show on every page, never a server error.
Where the party's own zone would take the date past 9999 or before the year 1,
the time is shown in UTC."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties.models import DinnerParty
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import admin_form_data, client_for, page_text, spaced_text

pytestmark = pytest.mark.django_db

LAST = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
FIRST = datetime(1, 1, 1, 0, 30, tzinfo=UTC)

# (stored start, the party's zone, how the page gives the time)
ENDS = [
    pytest.param((LAST, "America/Los_Angeles", "Fri 31 Dec, 15:00 PST"), id="9999-LA"),
    pytest.param((LAST, "Asia/Tokyo", "Fri 31 Dec, 23:00 UTC"), id="9999-Tokyo(10000)"),
    pytest.param((FIRST, "Asia/Tokyo", "Mon 1 Jan, 09:48 LMT"), id="0001-Tokyo"),
    pytest.param((FIRST, "America/Los_Angeles", "Mon 1 Jan, 00:30 UTC"), id="0001-LA(year0)"),
]


@pytest.fixture(params=ENDS)
def end(request):
    starts_at, zone, when = request.param
    host = UserFactory(username="ana", timezone=zone, is_staff=True, is_superuser=True)
    party = DinnerPartyFactory(host=host, title="Last supper", starts_at=starts_at, timezone=zone)
    return party, when


@pytest.fixture
def guest_far_east():
    """A viewer whose own zone (UTC+14) is off the calendar for the last hours of 9999."""
    return client_for(UserFactory(timezone="Pacific/Kiritimati"))


def test_the_party_page_shows_the_time(end, guest_far_east):
    party, when = end
    for client in (client_for(party.host), guest_far_east):
        response = client.get(party.get_absolute_url())
        assert response.status_code == 200
        assert f"When {when}" in spaced_text(response)


def test_the_list_shows_the_party(end, guest_far_east):
    party, when = end
    response = guest_far_east.get(reverse("parties:list"))

    assert response.status_code == 200
    if party.starts_at == LAST:  # (the list shows upcoming parties only)
        assert when in page_text(response)


def test_the_profile_and_the_landing_page_show_the_party(end):
    party, when = end
    client = client_for(party.host)

    assert client.get(reverse("profile")).status_code == 200
    assert client.get(reverse("home")).status_code == 200


def test_the_calendar_file_is_served(end, guest_far_east):
    party, _when = end
    response = guest_far_east.get(reverse("parties:calendar", args=[party.pk]))

    assert response.status_code == 200
    assert b"BEGIN:VEVENT" in response.content


def test_the_edit_page_shows_the_time_in_utc_where_the_zone_is_off_the_calendar(end):
    party, when = end
    response = client_for(party.host).get(reverse("parties:update", args=[party.pk]))

    assert response.status_code == 200
    form = response.context["form"]
    shown_zone = "UTC" if when.endswith(" UTC") else party.timezone
    assert form["timezone"].value() == shown_zone
    assert form["starts_at"].value() == party.local_starts_at.replace(tzinfo=None)


def test_saving_the_edit_page_as_shown_keeps_the_moment(end):
    party, _when = end
    client = client_for(party.host)
    page = client.get(reverse("parties:update", args=[party.pk]))
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["starts_at"] = form["starts_at"].value().isoformat(timespec="minutes")

    response = client.post(
        reverse("parties:update", args=[party.pk]), data | {"title": "Very last supper"}
    )

    saved = DinnerParty.objects.get(pk=party.pk)
    if party.local_starts_at.second:
        # Tokyo's local mean time in the year 1 was 9:18:59 ahead of UTC: the form
        # shows whole minutes, so the time as shown is a change, and in the past.
        assert response.context["form"].errors == {"starts_at": ["Pick a time in the future."]}
        assert saved.title == "Last supper"
    else:
        assert response.status_code == 302
        assert (saved.title, saved.starts_at) == ("Very last supper", party.starts_at)


def test_the_admin_lists_and_edits_the_party(end):
    party, _when = end
    admin = client_for(UserFactory(timezone="Pacific/Kiritimati", is_staff=True, is_superuser=True))
    url = reverse("admin:parties_dinnerparty_change", args=[party.pk])

    changelist = admin.get(reverse("admin:parties_dinnerparty_changelist"))
    assert changelist.status_code == 200
    assert "Last supper" in page_text(changelist)
    page = admin.get(url)
    assert page.status_code == 200
    # The admin's zone (UTC+14 then, UTC-10:29 in the year 1) is off the calendar
    # at both ends: the page gives times in UTC.
    utc = party.starts_at
    assert f'value="{utc.day:02}/{utc.month:02}/{utc.year:04}"' in page.content.decode()
    assert f'name="starts_at_1" value="{utc:%H:%M:%S}"' in page.content.decode()
    data = admin_form_data(page, zone_name="UTC") | {"title": "Very last supper"}
    response = admin.post(url, data)

    assert response.status_code == 302
    saved = DinnerParty.objects.get(pk=party.pk)
    assert (saved.title, saved.starts_at) == ("Very last supper", party.starts_at)
