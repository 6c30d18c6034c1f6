"""The hosts' guest list in a browser: the sheet prints on one page without the
site around it, and the CSV downloads from the party page."""

import csv
import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from e2e.helpers import save_screenshot
from parties import services

pytestmark = pytest.mark.e2e


@pytest.fixture
def busy_party(make_user, make_party):
    ana = make_user("ana", first_name="Ana", last_name="García")
    party = make_party(ana, title="Paella night", seats=20)
    services.potluck_set_slots(party=party, wanted={"starter": 3, "dessert": 3})
    for i, (first, diets, allergies) in enumerate(
        [
            ("Ben", ["vegetarian"], ["peanuts"]),
            ("Cléo", [], ["milk", "eggs"]),
            ("Dev", ["gluten_free"], []),
            ("Eva", [], []),
            ("Femi", ["vegan"], ["sesame"]),
            ("Gus", [], []),
        ]
    ):
        guest = UserFactory(first_name=first, last_name="Guest", diets=diets, allergies=allergies)
        services.rsvp_submit(party=party, guest=guest, status="going", plus_ones=i % 2)
        course = "starter" if i < 3 else "dessert"
        services.slot_claim(party=party, guest=guest, course=course, name=f"{first}'s {course}")
    return ana, party


def test_the_guest_sheet_prints_on_one_page_without_the_site_around_it(new_page, busy_party):
    ana, party = busy_party
    page = new_page(ana)
    page.goto(party.get_absolute_url())
    page.get_by_role("link", name="Guest sheet to print").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Paella night")
    expect(page.get_by_role("button", name="Print this sheet")).to_be_visible()
    expect(page.get_by_text("Ben Guest: Vegetarian; allergic to peanuts")).to_be_visible()
    save_screenshot(page, "guest-sheet-screen")

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this sheet")).to_be_hidden()
    save_screenshot(page, "guest-sheet-print")
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1


def test_a_host_downloads_the_guest_list_from_the_party_page(new_page, busy_party):
    ana, party = busy_party
    page = new_page(ana)
    page.goto(party.get_absolute_url())

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Guest list (CSV)").click()

    download = download_info.value
    assert download.suggested_filename == f"guest-list-{party.pk}.csv"
    text = open(download.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["Guest"] for row in rows][:2] == ["Ben Guest", "Cléo Guest"]
    assert rows[1]["Allergies"] == "Milk, Eggs"


def test_a_guest_has_no_guest_list_link(new_page, busy_party, make_user):
    _ana, party = busy_party
    page = new_page(make_user("zed"))
    page.goto(party.get_absolute_url())

    expect(page.get_by_role("link", name="Guest list (CSV)")).to_have_count(0)
    response = page.goto(reverse("parties:guest_sheet", args=[party.pk]))
    assert response.status == 404
