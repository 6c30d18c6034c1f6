"""The reply-by date and the calendar feed, as people see them in a browser."""

import re
from datetime import timedelta

import pytest
from django.utils import dateformat, timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from e2e.helpers import assert_accessible, evening_in, expect_field_error, messages
from parties import services
from parties.models import WHEN_FORMAT, DinnerParty

pytestmark = pytest.mark.e2e

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def fill_party_form(page: Page, starts_at, **times) -> None:
    for label, value in {
        "Title": "Paella night",
        "Venue": "Calle de la Luna 5, Madrid",
        "Main dish": "Seafood paella",
        "Seats": "4",
    }.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Starts at").fill(starts_at.strftime(DATETIME_LOCAL))
    page.get_by_label("Time zone").select_option(str(starts_at.tzinfo))
    for label, moment in times.items():
        page.get_by_label(label).fill(moment.strftime(DATETIME_LOCAL))


def test_a_host_sets_an_end_and_a_reply_by_date_and_replies_close_after_it(new_page, make_user):
    ana = make_user("ana", first_name="Ana", timezone="Europe/Madrid")
    ben = make_user("ben", first_name="Ben")
    starts_at = evening_in(10, "Europe/Madrid")
    reply_by = starts_at - timedelta(days=3)

    host = new_page(ana)
    host.goto("/parties/new/")
    # A reply-by date after the start is refused beside its field, nothing lost.
    fill_party_form(
        host,
        starts_at,
        **{"Ends at": starts_at + timedelta(hours=4), "Reply by": starts_at + timedelta(days=1)},
    )
    host.get_by_role("button", name="Create party").click()
    expect_field_error(host, "reply_by", "The reply-by date must come before the start.")
    expect(host.get_by_label("Title")).to_have_value("Paella night")

    host.get_by_label("Reply by").fill(reply_by.strftime(DATETIME_LOCAL))
    host.get_by_role("button", name="Create party").click()
    expect(messages(host)).to_contain_text("is on!")
    ends = dateformat.format(starts_at + timedelta(hours=4), WHEN_FORMAT)
    reply_by_text = dateformat.format(reply_by, WHEN_FORMAT)
    expect(host.locator(".party-ends")).to_have_text(ends)
    expect(host.locator(".party-reply-by")).to_have_text(reply_by_text)

    party = DinnerParty.objects.get()
    guest = new_page(ben)
    guest.goto(f"/parties/invite/{party.invite_token}/")  # new parties are private
    expect(guest.locator(".reply-by-notice")).to_have_text(f"Reply by {reply_by_text}.")
    assert_accessible(guest)

    # The deadline passes: no more new replies, and the page says so.
    DinnerParty.objects.filter(pk=party.pk).update(reply_by=timezone.now() - timedelta(hours=1))
    party.refresh_from_db()
    guest.reload()
    expect(guest.locator(".replies-closed")).to_have_text(
        f"Replies closed on {party.reply_by_text}."
    )
    expect(guest.get_by_role("button", name="Send my reply")).to_have_count(0)


def test_a_member_subscribes_to_their_calendar_feed_and_revokes_the_link(
    new_page, make_user, make_party
):
    ben = make_user("ben", first_name="Ben")
    party = make_party(make_user("ana", first_name="Ana"), title="Paella night")
    services.rsvp_submit(party=party, guest=ben, status="going")

    page = new_page(ben)
    page.goto("/accounts/profile/")
    feed = page.get_by_role("region", name="Your calendar feed")
    feed.get_by_role("button", name="Get my calendar feed link").click()
    expect(messages(page)).to_contain_text("Your calendar feed is ready")
    subscribe = page.get_by_role("link", name="Subscribe in your calendar app")
    expect(subscribe).to_have_attribute("href", re.compile(r"^webcal://.+/calendar/.+\.ics$"))
    old_link = page.locator("#calendar-feed-link").input_value()

    # What a calendar app fetches, without the member's session.
    response = page.context.request.get(old_link, headers={"Cookie": ""})
    assert response.status == 200
    (event,) = Calendar.from_ical(response.body()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Paella night"
    assert str(event["LOCATION"]) == party.venue
    assert_accessible(page)

    page.get_by_role("button", name="New link (the old one stops working)").click()
    expect(messages(page)).to_contain_text("Your calendar feed has a new link")
    assert page.locator("#calendar-feed-link").input_value() != old_link
    assert page.context.request.get(old_link).status == 404
