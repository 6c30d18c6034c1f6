"""Hosting a party and replying to it, in a browser, with several people at once."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import dateformat
from playwright.sync_api import Page, expect

from e2e.helpers import evening_in, expect_field_error, messages
from parties import services
from parties.models import WHEN_FORMAT, DinnerParty

pytestmark = pytest.mark.e2e

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> holds


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def when(starts_at: datetime) -> str:
    """How the site writes a start time: "Sat 12 Dec, 19:00 CET"."""
    return dateformat.format(starts_at, WHEN_FORMAT)


def fill_party_form(page: Page, starts_at: datetime, **fields: str) -> None:
    values = {
        "Title": "Paella night",
        "Venue": "Calle de la Luna 5, Madrid",
        "Main dish": "Seafood paella",
        "Seats": "4",
        "Description": "Bring a dessert if you like.",
        **fields,
    }
    for label, value in values.items():
        page.get_by_label(label).fill(value)
    # The date and time picker, filled with a wall-clock time in the party's zone.
    page.get_by_label("Starts at").fill(starts_at.strftime(DATETIME_LOCAL))
    page.get_by_label("Time zone").select_option(str(starts_at.tzinfo))


def reply(page: Page, status: str, *, plus_ones: int | None = None, note: str = "") -> None:
    """Answer the "Are you coming?" form on a party's page."""
    form = page.get_by_role("region", name="Are you coming?")
    form.get_by_label(status, exact=True).check()
    if plus_ones is not None:
        form.get_by_label("Plus-ones").fill(str(plus_ones))
    if note:
        form.get_by_label("Note for the host").fill(note)
    form.get_by_role("button", name="Send my reply").click()


def guest_list(page: Page):
    return page.get_by_role("region", name="Guest list")


def open_party_from_the_list(page: Page, title: str) -> None:
    page.goto("/parties/")
    page.get_by_role("link", name=title).click()
    expect(heading(page)).to_have_text(title)


def test_a_party_fills_up_and_a_waitlisted_guest_is_moved_to_the_table(new_page, make_user):
    ana = make_user("ana", first_name="Ana", timezone="Europe/Madrid")
    ben, cleo, dev = (make_user(name, first_name=name.title()) for name in ("ben", "cleo", "dev"))
    starts_at = evening_in(10, "Europe/Madrid")

    # Ana hosts: from the empty list to her party's page.
    host = new_page(ana)
    host.goto("/parties/")
    empty_state = host.locator(".empty-state")
    expect(empty_state).to_contain_text("No upcoming parties yet — host the first one.")
    empty_state.get_by_role("link", name="Host a party").click()
    expect(heading(host)).to_have_text("Host a dinner party")
    fill_party_form(host, starts_at)
    host.get_by_label("Public — listed for every member").check()
    host.get_by_role("button", name="Create party").click()

    expect(messages(host)).to_contain_text(
        f"Your party “Paella night” on {when(starts_at)} is on! Share it with your guests."
    )
    expect(heading(host)).to_have_text("Paella night")
    expect(host.get_by_text(f"{when(starts_at)} · in 1 week")).to_be_visible()
    expect(host.get_by_text("4 of 4 seats left")).to_be_visible()
    host.goto("/parties/")
    card = host.locator(".party-card", has_text="Paella night")
    expect(card).to_contain_text("Calle de la Luna 5, Madrid")
    expect(card).to_contain_text("Seafood paella")
    expect(card).to_contain_text("Hosted by Ana")
    expect(card).to_contain_text("4 seats left")

    # Ben comes with a plus-one.
    guest = new_page(ben)
    open_party_from_the_list(guest, "Paella night")
    reply(guest, "Going", plus_ones=1, note="I'll bring wine")
    expect(messages(guest)).to_contain_text(
        f"You're going to Ana's dinner party “Paella night” on {when(starts_at)} with 1 plus-one!"
    )
    expect(guest_list(guest)).to_contain_text("Ben +1")
    expect(guest.get_by_text("2 of 4 seats left")).to_be_visible()

    # Cleo and her plus-one fill the table.
    filler = new_page(cleo)
    open_party_from_the_list(filler, "Paella night")
    reply(filler, "Going", plus_ones=1)
    expect(messages(filler)).to_contain_text("You're going to Ana's dinner party")
    expect(filler.get_by_text("Full — waitlist open")).to_be_visible()

    # Dev is too late: waitlisted, and told where he stands.
    waiting = new_page(dev)
    waiting.goto("/parties/")
    expect(waiting.locator(".party-card", has_text="Paella night")).to_contain_text(
        "Full — waitlist open"
    )
    open_party_from_the_list(waiting, "Paella night")
    reply(waiting, "Going")
    expect(messages(waiting)).to_contain_text("The table is full — you're #1 on the waitlist")
    expect(
        waiting.get_by_text("You replied: Waitlisted — you're #1 on the waitlist.")
    ).to_be_visible()
    expect(guest_list(waiting)).to_contain_text("#1 Dev")

    # Ben can't make it after all: his two seats free up, and Dev takes one.
    reply(guest, "Can't go")
    expect(messages(guest)).to_contain_text("Sorry you can't make it to Ana's dinner party")
    expect(messages(guest)).to_contain_text("1 guest moved up from the waitlist.")

    # Dev hears about it on the next page he opens, whichever it is.
    waiting.goto("/")
    expect(messages(waiting)).to_contain_text(
        f"You've been moved from the waitlist to the table at Ana's dinner party "
        f"“Paella night” on {when(starts_at)}!"
    )
    waiting.goto("/parties/")
    expect(messages(waiting)).not_to_contain_text("moved from the waitlist")  # told once
    open_party_from_the_list(waiting, "Paella night")
    expect(waiting.get_by_text("You replied: Going.")).to_be_visible()

    host.reload()
    host.get_by_role("link", name="Paella night").click()
    guests = guest_list(host)
    expect(guests.locator("h3", has_text="Going")).to_contain_text("2")
    expect(guests).to_contain_text("Cleo +1")
    expect(guests).to_contain_text("Dev")
    expect(guests.locator("h3", has_text="Can't go")).to_be_visible()
    host_tools = host.get_by_role("region", name="Host tools")
    expect(host_tools).to_contain_text("Head count: 4")
    expect(host_tools).not_to_contain_text("I'll bring wine")  # Ben isn't coming
    expect(host.get_by_text("1 of 4 seats left")).to_be_visible()


def test_a_private_party_is_reached_only_through_its_invite_link(new_page, make_user):
    ana = make_user("ana", first_name="Ana")
    ben, cleo, dev = (make_user(name, first_name=name.title()) for name in ("ben", "cleo", "dev"))
    host = new_page(ana)
    host.context.grant_permissions(["clipboard-read", "clipboard-write"])
    host.goto("/parties/new/")
    fill_party_form(host, evening_in(5), Title="Birthday supper")
    host.get_by_label("Private — only people with the invite link").check()
    host.get_by_role("button", name="Create party").click()
    expect(heading(host)).to_have_text("Birthday supper")
    party = DinnerParty.objects.get(title="Birthday supper")

    # The host copies the link from the page, as she would to paste it in a message.
    host.get_by_role("button", name="Copy link").click()
    expect(host.get_by_role("button", name="Copied!")).to_be_visible()
    invite_url = host.evaluate("navigator.clipboard.readText()")
    expect(host.get_by_label("Invite link")).to_have_value(invite_url)
    assert re.fullmatch(
        rf"{re.escape(host.url.split('/parties/')[0])}/parties/invite/\S+/", invite_url
    )

    invited = new_page(ben)
    invited.goto(invite_url)
    expect(heading(invited)).to_have_text("Birthday supper")
    expect(invited.locator(".party-details")).to_contain_text("Private")
    reply(invited, "Going")
    expect(messages(invited)).to_contain_text(
        "You're going to Ana's dinner party “Birthday supper”"
    )
    expect(invited).to_have_url(invite_url)
    invited.goto("/parties/")  # once replied, it is on his list
    expect(invited.get_by_role("link", name="Birthday supper")).to_be_visible()

    outsider = new_page(cleo)
    outsider.goto("/parties/")
    expect(heading(outsider)).to_have_text("Upcoming parties")
    expect(outsider.get_by_text("Birthday supper")).to_have_count(0)
    outsider.goto("/")
    expect(outsider.get_by_text("Birthday supper")).to_have_count(0)
    response = outsider.goto(party.get_absolute_url())
    assert response.status == 404
    expect(heading(outsider)).to_have_text("We couldn't find that page")

    # A new link kills the old one.
    host.get_by_role("button", name="New link (the old one stops working)").click()
    expect(messages(host)).to_contain_text(
        "A new invite link is ready. The old link no longer works."
    )
    expect(host.get_by_label("Invite link")).not_to_have_value(invite_url)
    late = new_page(dev)
    assert late.goto(invite_url).status == 404
    expect(heading(late)).to_have_text("We couldn't find that page")


def test_the_host_deletes_a_party_after_confirming(new_page, make_user, make_party):
    ana = make_user("ana", first_name="Ana")
    ben = make_user("ben")
    party = make_party(ana)
    services.rsvp_submit(party=party, guest=ben, status="going", plus_ones=1)

    guest = new_page(ben)
    assert guest.goto(f"/parties/{party.pk}/delete/").status == 404

    host = new_page(ana)
    host.goto(party.get_absolute_url())
    host.get_by_role("link", name="Delete").click()
    expect(heading(host)).to_have_text("Delete “Paella night”?")
    expect(host.get_by_role("main")).to_contain_text("(2 seats taken)")
    host.get_by_role("link", name="Keep it").click()
    expect(heading(host)).to_have_text("Paella night")
    assert DinnerParty.objects.filter(pk=party.pk).exists()

    host.get_by_role("link", name="Delete").click()
    host.get_by_role("button", name="Yes, delete the party").click()

    expect(messages(host)).to_contain_text("“Paella night” has been cancelled and deleted.")
    expect(heading(host)).to_have_text("Upcoming parties")
    expect(host.get_by_text("No upcoming parties yet — host the first one.")).to_be_visible()
    assert not DinnerParty.objects.filter(pk=party.pk).exists()
    guest.goto("/parties/")
    expect(guest.get_by_text("Paella night")).to_have_count(0)


def test_the_party_form_shows_each_error_beside_its_field(new_page, make_user):
    page = new_page(make_user("ana"))
    page.goto("/parties/new/")

    page.get_by_role("button", name="Create party").click()
    expect(messages(page)).to_contain_text("Please fix the errors below.")
    for name in ("title", "starts_at", "venue", "main_dish", "seats"):
        expect_field_error(page, name, "This field is required.")
    expect(page.locator("#div_id_description .invalid-feedback")).to_have_count(0)

    yesterday = evening_in(-1)
    fill_party_form(page, yesterday, Seats="0")
    page.get_by_role("button", name="Create party").click()
    expect_field_error(page, "starts_at", "Pick a time in the future.")
    expect_field_error(page, "seats", "Ensure this value is greater than or equal to 1.")
    expect(page.locator("#div_id_title .invalid-feedback")).to_have_count(0)
    expect(page.get_by_label("Title")).to_have_value("Paella night")  # kept

    fill_party_form(page, evening_in(3), Seats="501")
    page.get_by_role("button", name="Create party").click()
    expect_field_error(page, "seats", "Ensure this value is less than or equal to 500.")
    assert not DinnerParty.objects.exists()


def test_the_edit_form_refuses_fewer_seats_than_are_taken(new_page, make_user, make_party):
    ana = make_user("ana")
    party = make_party(ana, seats=4)
    services.rsvp_submit(party=party, guest=make_user("ben"), status="going", plus_ones=2)
    page = new_page(ana)
    page.goto(party.get_absolute_url())
    page.get_by_role("link", name="Edit").click()
    expect(heading(page)).to_have_text("Edit “Paella night”")

    page.get_by_label("Seats").fill("2")
    page.get_by_role("button", name="Save changes").click()

    expect_field_error(page, "seats", "3 seats are already taken, so the table needs at least 3.")
    page.get_by_label("Seats").fill("6")
    page.get_by_role("button", name="Save changes").click()
    expect(messages(page)).to_contain_text("“Paella night” has been updated.")
    expect(page.get_by_text("3 of 6 seats left")).to_be_visible()


def test_a_bad_reply_is_refused_with_a_message(new_page, make_user, make_party):
    party = make_party(make_user("ana"), seats=2)
    page = new_page(make_user("ben"))
    page.goto(party.get_absolute_url())

    reply(page, "Going", plus_ones=9)

    expect(page.get_by_role("alert")).to_contain_text("Please fix the errors below.")
    expect(page.locator("#div_id_plus_ones")).to_contain_text("less than or equal to 5")
    expect(page.get_by_text("2 of 2 seats left")).to_be_visible()
    reply(page, "Going", plus_ones=1)
    expect(messages(page)).to_contain_text("with 1 plus-one!")
    reply(page, "Going", plus_ones=2)  # only his own two seats are free
    expect(page.get_by_role("alert")).to_contain_text(
        "Only 2 seats free for you, so you can bring at most 1 plus-one."
    )


def test_a_bad_reply_shows_its_error_beside_the_field(new_page, make_user, make_party):
    party = make_party(make_user("ana"))
    page = new_page(make_user("ben"))
    page.goto(party.get_absolute_url())

    reply(page, "Going", plus_ones=9)

    expect(page.locator("#div_id_plus_ones .invalid-feedback")).to_contain_text(
        "less than or equal to 5", timeout=2_000
    )


def test_a_party_that_has_started_takes_no_more_replies(new_page, make_user, make_party):
    party = make_party(make_user("ana"), starts_at=evening_in(1))
    DinnerParty.objects.filter(pk=party.pk).update(starts_at=party.starts_at - timedelta(days=2))
    page = new_page(make_user("ben"))

    page.goto(party.get_absolute_url())

    expect(page.get_by_text("This party has started — replies are closed.")).to_be_visible()
    expect(page.get_by_role("button", name="Send my reply")).to_have_count(0)
