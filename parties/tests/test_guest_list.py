"""Hosts take the guest list away: a CSV file and a one-page sheet to print, for
the host and co-hosts only (everyone else, a 404 before anything is loaded)."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, going, page_text

pytestmark = pytest.mark.django_db

SESSION_AND_USER = 1
# + the party (with its host) among those the viewer may edit, its replies with
# their guests, its dishes with who brings them
GUEST_LIST_QUERIES = SESSION_AND_USER + 3


def csv_url(party) -> str:
    return reverse("parties:guest_list_csv", args=[party.pk])


def sheet_url(party) -> str:
    return reverse("parties:guest_sheet", args=[party.pk])


def csv_rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def full_party(host, party):
    """Paella night with a guest of each reply, diets, allergies and dishes."""
    ben = UserFactory(
        username="ben",
        first_name="Ben",
        last_name="Okafor",
        diets=["vegetarian"],
        allergies=["peanuts"],
        dietary_notes="No coriander, please",
    )
    going(party, ben, plus_ones=1)
    RSVP.objects.filter(guest=ben).update(
        plus_one_diets=["vegan"], plus_one_allergies=["sesame"], note="Arriving at 8"
    )
    cleo = UserFactory(username="cleo", first_name="Cléo", last_name="Martin", allergies=["milk"])
    services.rsvp_submit(party=party, guest=cleo, status="maybe", note="Maybe late")
    dan = UserFactory(username="dan", first_name="Dan", last_name="Ng")
    services.rsvp_submit(party=party, guest=dan, status="declined")
    services.potluck_set_slots(party=party, wanted={"dessert": 1, "starter": 1})
    services.slot_claim(
        party=party, guest=ben, course="dessert", name="Tiramisu", allergens=["eggs", "milk"]
    )
    services.dish_add(party=party, cook=host, course="starter", name="Gazpacho")
    party.refresh_from_db()
    return party


# --- the CSV file --------------------------------------------------------------------


def test_the_host_downloads_the_guest_list_as_csv(host_client, full_party):
    response = host_client.get(csv_url(full_party))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="guest-list-{full_party.pk}.csv"'
    )
    rows = csv_rows(response)
    assert list(rows[0]) == [
        "Guest",
        "Reply",
        "Plus-ones",
        "Diets",
        "Allergies",
        "Plus-ones' diets",
        "Plus-ones' allergies",
        "Dietary notes",
        "Brings",
        "Note",
    ]
    # Going first, then maybe, then those who can't go.
    assert [(row["Guest"], row["Reply"], row["Plus-ones"]) for row in rows] == [
        ("Ben Okafor", "Going", "1"),
        ("Cléo Martin", "Maybe", "0"),
        ("Dan Ng", "Can't go", "0"),
    ]
    ben = rows[0]
    assert (ben["Diets"], ben["Allergies"]) == ("Vegetarian", "Peanuts")
    assert (ben["Plus-ones' diets"], ben["Plus-ones' allergies"]) == ("Vegan", "Sesame")
    assert ben["Dietary notes"] == "No coriander, please"
    assert ben["Brings"] == "Dessert: Tiramisu"
    assert ben["Note"] == "Arriving at 8"
    # Diets and allergies are for guests at the table or waiting for a seat only.
    assert rows[1]["Allergies"] == ""
    assert rows[1]["Note"] == "Maybe late"


def test_a_co_host_downloads_the_guest_list_too(full_party):
    cohost = UserFactory()
    services.cohost_add(party=full_party, user=cohost)

    response = client_for(cohost).get(csv_url(full_party))

    assert response.status_code == 200
    assert len(csv_rows(response)) == 3


@pytest.mark.parametrize("who", ["guest at the table", "stranger", "another host"])
def test_nobody_else_finds_the_guest_list(full_party, who):
    if who == "guest at the table":
        viewer = RSVP.objects.get(party=full_party, status="going").guest
    elif who == "stranger":
        viewer = UserFactory()
    else:
        viewer = DinnerPartyFactory().host

    client = client_for(viewer)

    assert client.get(csv_url(full_party)).status_code == 404
    assert client.get(sheet_url(full_party)).status_code == 404


def test_a_missing_party_has_no_guest_list(host_client, party):
    missing = party.pk + 1000

    assert host_client.get(reverse("parties:guest_list_csv", args=[missing])).status_code == 404
    assert host_client.get(reverse("parties:guest_sheet", args=[missing])).status_code == 404


def test_the_guest_list_is_behind_the_login_wall(client, party):
    for url in (csv_url(party), sheet_url(party)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("formula", ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)"])
def test_user_text_never_reaches_a_spreadsheet_as_a_formula(host_client, party, formula):
    sneaky = UserFactory(first_name=formula, last_name="", dietary_notes=formula)
    going(party, sneaky)
    RSVP.objects.filter(guest=sneaky).update(note=formula)
    services.potluck_set_slots(party=party, wanted={"side": 1})
    services.slot_claim(party=party, guest=sneaky, course="side", name=formula)

    row = csv_rows(host_client.get(csv_url(party)))[0]

    assert row["Guest"] == f"'{formula}"
    assert row["Dietary notes"] == f"'{formula}"
    assert row["Note"] == f"'{formula}"
    assert row["Brings"] == f"Side: {formula}"  # starts with the course: no formula


def test_an_empty_guest_list_is_just_the_header(host_client, party):
    response = host_client.get(csv_url(party))

    assert response.status_code == 200
    assert len(response.content.decode("utf-8-sig").splitlines()) == 1


def test_the_guest_list_post_is_refused(host_client, party):
    assert host_client.post(csv_url(party)).status_code == 405


# --- the sheet to print ------------------------------------------------------------------


def test_the_host_prints_a_sheet_of_guests_diets_and_dishes_by_course(host_client, full_party):
    response = host_client.get(sheet_url(full_party))

    assert response.status_code == 200
    text = page_text(response)
    assert "Paella night" in text
    assert full_party.when in text
    assert "2 people at the table (1 reply going)" in text  # Ben and his plus-one
    for name in ("Ben Okafor", "Cléo Martin", "Dan Ng"):
        assert name in text
    assert "Ben Okafor: Vegetarian; allergic to peanuts; “No coriander, please”" in text
    assert "Plus-one: Vegan; allergic to sesame" in text
    assert "Cléo Martin:" not in text  # maybe: the hosts don't see her allergies
    assert "Starter Gazpacho — Ana" in text
    assert f"Main {full_party.main_dish} — Ana" in text
    assert "Dessert Tiramisu — Ben Okafor (contains eggs, milk)" in text
    markup = response.content.decode()
    assert 'href="/static/css/print.css"' in markup
    assert "<script>" not in markup
    assert "style=" not in markup


def test_the_sheet_escapes_what_guests_typed(host_client, party):
    hostile = "<script>alert(1)</script>"
    going(party, UserFactory(first_name=hostile, dietary_notes=hostile, diets=["vegan"]))

    response = host_client.get(sheet_url(party))

    markup = response.content.decode()
    assert hostile not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


def test_the_print_styles_keep_the_sheet_to_itself():
    from django.contrib.staticfiles import finders

    css = open(finders.find("css/print.css"), encoding="utf-8").read()  # noqa: SIM115

    assert "@media print" in css
    for hidden in ("header", "footer", ".sheet-tools"):
        assert hidden in css.split("@media print", 1)[1]


def test_the_party_page_links_its_hosts_to_the_guest_list(host_client, guest_client, party):
    going(party, UserFactory())

    host_page = host_client.get(party.get_absolute_url()).content.decode()
    guest_page = guest_client.get(party.get_absolute_url()).content.decode()

    assert f'href="{csv_url(party)}"' in host_page
    assert f'href="{sheet_url(party)}"' in host_page
    assert csv_url(party) not in guest_page


# --- a fixed number of queries, however many guests --------------------------------------


@pytest.mark.parametrize("size", [1, 12])
@pytest.mark.parametrize("view", ["csv", "sheet"])
def test_the_guest_list_takes_the_same_queries_for_one_guest_as_for_many(
    django_assert_num_queries, host, host_client, size, view
):
    party = DinnerPartyFactory(host=host, seats=30)
    services.potluck_set_slots(party=party, wanted={"dessert": size})
    for i in range(size):
        guest = UserFactory(diets=["vegan"], allergies=["milk"])
        going(party, guest)
        services.slot_claim(party=party, guest=guest, course="dessert", name=f"Cake {i}")
    url = csv_url(party) if view == "csv" else sheet_url(party)

    with django_assert_num_queries(GUEST_LIST_QUERIES):
        response = host_client.get(url)

    assert response.status_code == 200
