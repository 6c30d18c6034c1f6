"""A party's page as hosts and guests see it on a phone and a laptop (issue 21):
the reply first, nothing pre-selected, the waitlist's one-tap offer, icons that
stay clear of the date box."""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from e2e.helpers import assert_accessible, save_screenshot
from parties import services
from parties.models import RSVP, RSVPStatus

pytestmark = pytest.mark.e2e


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_a_new_invitee_sees_the_reply_right_after_the_essentials(
    new_page, make_user, make_party, phone
):
    ana = make_user("ana", first_name="Ana")
    party = make_party(ana, description="A long description. " * 40, potluck=True)
    gus = make_user("gus", first_name="Gus")
    page = new_page(gus, phone=phone)
    page.goto(party.get_absolute_url())

    reply = page.get_by_role("region", name="Are you coming?")
    essentials = box(page, ".party-details dl")
    card = reply.bounding_box()
    description = box(page, ".party-description")
    if phone:  # one column: the essentials, then the reply, then the rest
        assert essentials["y"] + essentials["height"] <= card["y"] < description["y"]
        assert card["y"] < 740, "the reply box starts on the first screen"
    else:  # the reply beside the essentials
        assert card["x"] > essentials["x"] + essentials["width"]
        assert card["y"] < essentials["y"] + essentials["height"]
    for status in ("Going", "Maybe", "Can't go"):
        expect(reply.get_by_label(status, exact=True)).not_to_be_checked()
    assert_accessible(page)
    save_screenshot(page, f"party-first-reply-{'phone' if phone else 'desktop'}")

    reply.get_by_role("button", name="Send my reply").click()

    expect(page.locator("#id_status_error, .invalid-feedback").first).to_contain_text(
        "Choose going, maybe or can't go."
    )
    assert not RSVP.objects.filter(guest=gus).exists()


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_a_group_too_big_for_the_seats_left_comes_alone_with_one_tap(
    new_page, make_user, make_party, phone
):
    ana = make_user("ana", first_name="Ana")
    party = make_party(ana, seats=4)
    services.rsvp_submit(party=party, guest=make_user("ben"), status="going", plus_ones=2)
    chloe: User = make_user("chloe", first_name="Chloé")
    page = new_page(chloe, phone=phone)
    page.goto(party.get_absolute_url())

    reply = page.get_by_role("region", name="Are you coming?")
    reply.get_by_label("Going", exact=True).check()
    reply.get_by_label("Plus-ones").fill("2")
    reply.get_by_role("button", name="Send my reply").click()

    expect(page.locator(".messages")).to_contain_text(
        "come alone now, or wait for 3 seats together — you're #1 on the waitlist."
    )
    offer = page.locator(".seat-offer")
    expect(offer).to_contain_text("Only 1 seat is free: come alone now, or wait for 3 seats")
    expect(offer).to_contain_text("2 more seats would seat you and your 2 plus-ones.")
    assert_accessible(page)
    save_screenshot(page, f"party-seat-offer-{'phone' if phone else 'desktop'}")

    offer.get_by_role("button", name="Come alone now").click()

    expect(page.locator(".messages")).to_contain_text("You're going to")
    expect(page.get_by_role("region", name="Are you coming?")).to_contain_text("You replied: Going")
    rsvp = RSVP.objects.get(guest=chloe)
    assert (rsvp.status, rsvp.plus_ones) == (RSVPStatus.GOING, 0)


def test_card_icons_stay_clear_of_the_date_box_on_a_phone(new_page, make_user, make_party):
    ana = make_user("ana", first_name="Ana")
    make_party(ana, venue="A very long street name that wraps, 123456 Somewhere-on-Sea")
    page = new_page(ana, phone=True)
    page.goto("/parties/")

    date = box(page, ".party-card .date-badge")
    for icon in page.locator(".party-card .party-facts svg").all():
        found = icon.bounding_box()
        assert found is not None
        assert found["x"] >= date["x"] + date["width"], "an icon overlaps the date box"
        assert 12 <= found["width"] <= 20
    save_screenshot(page, "parties-icons-phone")
