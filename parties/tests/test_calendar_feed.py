"""A member's private calendar feed: /calendar/<token>.ics, no login, the parties
they host or are going or maybe to, each place as the party page would show it;
a new link revokes the old one; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import CalendarFeed, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import flash_messages, going, page_text

pytestmark = pytest.mark.django_db


def feed_url(user) -> str:
    return reverse("calendar_feed", args=[services.calendar_feed_token(user=user)])


def read_feed(url: str) -> dict[str, str]:
    """The feed, fetched as a calendar app would (no session): summary → location."""
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.content)
    return {str(event["SUMMARY"]): str(event["LOCATION"]) for event in cal.walk("VEVENT")}


def test_the_feed_lists_parties_the_member_hosts_co_hosts_or_is_going_or_maybe_to(guest):
    DinnerPartyFactory(host=guest, title="Mine", venue="My flat")
    cohosted = DinnerPartyFactory(title="Co-hosted", venue="Their flat")
    cohosted.cohosts.add(guest)
    going(DinnerPartyFactory(title="Going"), guest)
    RSVPFactory(party=DinnerPartyFactory(title="Maybe"), guest=guest, status=RSVPStatus.MAYBE)
    RSVPFactory(party=DinnerPartyFactory(title="Declined"), guest=guest, status="declined")
    DinnerPartyFactory(title="Someone else's")
    DinnerPartyFactory(host=guest, title="Long ago", starts_at=timezone.now() - timedelta(days=60))

    feed = read_feed(feed_url(guest))

    assert sorted(feed) == ["Co-hosted", "Going", "Maybe", "Mine"]
    assert feed["Mine"] == "My flat"
    assert feed["Co-hosted"] == "Their flat"


def test_a_hidden_address_shows_only_to_guests_at_the_table(guest):
    hidden = {"hide_address": True, "area": "Kreuzberg", "venue": "Secret street 1"}
    at_table = DinnerPartyFactory(title="At the table", **hidden)
    going(at_table, guest)
    maybe = DinnerPartyFactory(title="Maybe", visibility=Visibility.PRIVATE, **hidden)
    RSVPFactory(party=maybe, guest=guest, status=RSVPStatus.MAYBE)

    feed = read_feed(feed_url(guest))

    assert feed == {"At the table": "Secret street 1", "Maybe": "Kreuzberg"}


def test_a_party_the_member_is_only_waitlisted_for_is_not_in_the_feed(guest):
    party = DinnerPartyFactory(title="Full", seats=1, hide_address=True, area="Mitte")
    going(party, UserFactory())
    services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)  # waitlisted
    RSVPFactory(party=DinnerPartyFactory(title="Maybe"), guest=guest, status="maybe")

    assert sorted(read_feed(feed_url(guest))) == ["Maybe"]


def test_a_wrong_token_is_a_404(db):
    for token in ("nope", "x" * 64, "x" * 65, "<script>", "%00", "a%00b", "..%2f"):
        response = Client().get(f"/calendar/{token}.ics")
        assert response.status_code == 404


def test_each_member_reads_only_their_own_feed(guest):
    other = UserFactory()
    going(DinnerPartyFactory(title="Ben's dinner"), guest)
    going(DinnerPartyFactory(title="The other one's dinner"), other)

    assert sorted(read_feed(feed_url(other))) == ["The other one's dinner"]


def test_a_new_link_revokes_the_old_one(guest, guest_client):
    old = feed_url(guest)

    response = guest_client.post(reverse("parties:calendar_feed_renew"))

    assert response.status_code == 302
    assert response.url == reverse("profile") + "#calendar-feed"
    assert "Your calendar feed has a new link" in flash_messages(response)[0]
    assert Client().get(old).status_code == 404
    new = feed_url(guest)
    assert new != old
    read_feed(new)


def test_a_new_link_needs_a_logged_in_member_and_a_post(guest, guest_client):
    token = services.calendar_feed_token(user=guest)

    assert Client().post(reverse("parties:calendar_feed_renew")).status_code == 302  # login
    assert guest_client.get(reverse("parties:calendar_feed_renew")).status_code == 405
    assert CalendarFeed.objects.get(user=guest).token == token


def test_a_new_link_without_a_csrf_token_is_refused(guest):
    client = Client(enforce_csrf_checks=True)
    client.force_login(guest)

    assert client.post(reverse("parties:calendar_feed_renew")).status_code == 403


def test_an_inactive_members_feed_is_a_404(guest):
    url = feed_url(guest)
    guest.is_active = False
    guest.save()

    assert Client().get(url).status_code == 404


def test_the_profile_page_offers_a_feed_link_then_shows_it_by_webcal(guest, guest_client):
    response = guest_client.get(reverse("profile"))
    assert "Get my calendar feed link" in page_text(response)
    assert not CalendarFeed.objects.exists()  # a GET writes nothing

    response = guest_client.post(reverse("parties:calendar_feed_renew"), follow=True)

    token = CalendarFeed.objects.get(user=guest).token
    assert f'href="webcal://testserver/calendar/{token}.ics"' in response.content.decode()
    assert "Your calendar feed is ready" in page_text(response)
    read_feed(f"/calendar/{token}.ics")


@pytest.mark.parametrize("count", [1, 12])
def test_the_feed_costs_the_same_queries_however_many_parties(
    guest, django_assert_num_queries, count
):
    for n in range(count):
        party = DinnerPartyFactory(title=f"Party {n}", hide_address=n % 2 == 0)
        if n % 3:
            going(party, guest)
        else:
            party.cohosts.add(guest)
    url = feed_url(guest)

    with django_assert_num_queries(2):  # the token's member, their parties
        response = Client().get(url)

    assert response.status_code == 200
