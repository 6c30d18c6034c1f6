"""Invitations in a browser (issue 20): a host invites by email and sees who
answered; a visitor replies from the invite link's preview without a password."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from icalendar import Calendar
from playwright.sync_api import Page, expect

from e2e.helpers import assert_accessible, messages, save_screenshot
from parties import services
from parties.models import RSVP, DinnerParty, RSVPStatus, Visibility

pytestmark = pytest.mark.e2e

PERSONAL_LINK = re.compile(r"https?://[^/\s]+(/parties/invitation/[A-Za-z0-9_-]+/)")
REPLY_LINK = re.compile(r"https?://[^/\s]+(/parties/\d+/reply/[^/\s]+/)")


def link_to(address: str, pattern: re.Pattern, *, last: bool = False) -> str:
    """The link in the (last) email sent to `address`."""
    found = [m for m in mail.outbox if m.to == [address]]
    assert found, f"no email to {address}: {[m.to for m in mail.outbox]}"
    match = pattern.search((found[-1] if last else found[0]).body)
    assert match, found[0].body
    return match.group(1)


def calendar_event(message):
    """The email's text/calendar part through the icalendar parser: its METHOD
    parameter and its one event."""
    (part,) = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    (event,) = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    return part.get_param("method"), event


def invitee_table(page: Page):
    return page.locator(".invitations-table")


def state_of(page: Page, address: str):
    return invitee_table(page).locator("tr", has_text=address).locator(".badge")


def test_a_host_invites_by_email_a_guest_answers_with_one_tap_and_the_rest_are_reminded(
    new_page, make_user, make_party
):
    mail.outbox.clear()
    ana = make_user("ana", first_name="Ana")
    party = make_party(ana, title="Secret supper", visibility=Visibility.PRIVATE, seats=4)

    host = new_page(ana)
    host.goto(party.get_absolute_url())
    host.get_by_label("Invite by email").fill(
        "Maria Lopez <maria@example.com>\nbob@example.com\nChloé <chloe@example.com>"
    )
    host.get_by_role("button", name="Send invitations").click()
    expect(messages(host)).to_contain_text("3 invitations are on their way.")
    expect(state_of(host, "maria@example.com")).to_have_text("Invited")
    assert sorted(m.to[0] for m in mail.outbox) == [
        "bob@example.com",
        "chloe@example.com",
        "maria@example.com",
    ]

    # Maria has no account: her personal link, in a browser of her own.
    maria = new_page()
    maria.goto(link_to("maria@example.com", PERSONAL_LINK))
    expect(maria.get_by_role("heading", level=1)).to_have_text("Secret supper")
    expect(maria.locator("body")).not_to_contain_text(party.venue)
    assert_accessible(maria)
    # Bob opens his but doesn't answer (yet): his browser, not the GET, says "opened"
    # (a mail scanner's fetch of the link runs no script).
    bob = new_page()
    with bob.expect_response(re.compile(r"/opened/$")) as opened:
        bob.goto(link_to("bob@example.com", PERSONAL_LINK))
    assert opened.value.status == 204
    maria.get_by_role("button", name="Going", exact=True).click()
    expect(messages(maria)).to_contain_text("You're going to")
    expect(maria.get_by_role("region", name="Guest list")).to_contain_text("Maria Lopez")
    expect(maria.get_by_text("Set a password to keep your account")).to_be_visible()
    expect(maria.locator("body")).to_contain_text(party.venue)  # at the table now

    host.reload()
    expect(state_of(host, "maria@example.com")).to_have_text("Going")
    expect(state_of(host, "bob@example.com")).to_have_text("Opened")
    expect(state_of(host, "chloe@example.com")).to_have_text("Invited")
    save_screenshot(host, "invitations-host-table")

    # Maria's confirmation puts the dinner in her calendar (SEQUENCE 0).
    (confirmation,) = [m for m in mail.outbox if m.to == ["maria@example.com"]][1:]
    method, entry = calendar_event(confirmation)
    assert (method, entry["SEQUENCE"]) == ("REQUEST", 0)
    uid = str(entry["UID"])

    mail.outbox.clear()
    host.get_by_role("button", name="Remind those who haven't answered").click()
    expect(messages(host)).to_contain_text("Reminded 2 invitees who haven't answered.")
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.com", "chloe@example.com"]
    assert all(m.subject.startswith("Reminder:") for m in mail.outbox)
    # The reminder's link is Chloé's own: it opens the private party for her.
    chloe = new_page()
    chloe.goto(link_to("chloe@example.com", PERSONAL_LINK, last=True))
    expect(chloe.get_by_role("heading", level=1)).to_have_text("Secret supper")
    expect(chloe.get_by_role("button", name="Going", exact=True)).to_be_visible()

    # The host moves the dinner a day later: Maria's calendar entry moves with it.
    mail.outbox.clear()
    host.goto(f"/parties/{party.pk}/edit/")
    moved = party.starts_at + timedelta(days=1)
    host.get_by_label("Starts at").fill(moved.astimezone(party.zone).strftime("%Y-%m-%dT%H:%M"))
    host.get_by_role("button", name="Save changes").click()
    expect(messages(host)).to_be_visible()
    (change,) = [m for m in mail.outbox if m.to == ["maria@example.com"]]
    method, entry = calendar_event(change)
    assert (method, entry["SEQUENCE"], str(entry["UID"])) == ("REQUEST", 1, uid)
    assert entry.decoded("DTSTART") == DinnerParty.objects.get(pk=party.pk).starts_at


@pytest.mark.parametrize("full", [False, True], ids=["seated", "waitlisted"])
def test_a_visitor_replies_from_the_preview_and_opens_the_emailed_link(
    new_page, make_user, make_party, full
):
    mail.outbox.clear()
    ana = make_user("ana", first_name="Ana")
    party = make_party(
        ana, title="Paella night", visibility=Visibility.PRIVATE, seats=2, area="Gràcia"
    )
    if full:
        services.rsvp_submit(party=party, guest=make_user("ben"), status="going", plus_ones=1)
    DinnerParty.objects.filter(pk=party.pk).update(reply_by=party.starts_at - timedelta(days=1))
    party.refresh_from_db()

    visitor = new_page()
    visitor.goto(f"/parties/invite/{party.invite_token}/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Paella night")
    expect(visitor.locator("body")).to_contain_text("Gràcia")
    expect(visitor.locator("body")).not_to_contain_text(party.venue)
    expect(visitor.locator("body")).to_contain_text(
        "Full — waitlist open" if full else "2 of 2 seats left"
    )
    expect(visitor.locator(".reply-by-notice")).to_have_text(f"Reply by {party.reply_by_text}")
    assert_accessible(visitor)
    save_screenshot(visitor, f"invite-preview-{'full' if full else 'open'}")

    form = visitor.get_by_role("region", name="Are you coming?")
    form.get_by_label("Your name").fill("Nadia Haddad")
    form.get_by_label("Your email").fill("nadia@example.com")
    form.get_by_label("Going", exact=True).check()
    form.get_by_role("button", name="Send my reply").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert not RSVP.objects.filter(guest__email="nadia@example.com").exists()

    visitor.goto(link_to("nadia@example.com", REPLY_LINK))
    visitor.get_by_role("button", name="Send my reply").click()
    status = RSVPStatus.WAITLISTED if full else RSVPStatus.GOING
    expect(messages(visitor)).to_contain_text("on the waitlist" if full else "You're going to")
    guests = visitor.get_by_role("region", name="Guest list")
    expect(guests).to_contain_text("Nadia Haddad")
    assert RSVP.objects.get(guest__email="nadia@example.com").status == status

    # The link works once.
    visitor.goto(link_to("nadia@example.com", REPLY_LINK))
    expect(visitor.locator("body")).to_contain_text("This link has been used already")
