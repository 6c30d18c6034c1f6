"""What hosts and guests see on a party's page (issue 21): plus-ones and the
waitlist, the main dish's tags, private by default, times in the viewer's zone,
counting people, the reply first, and the note for guests at the table."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties import selectors, services
from parties.forms import PartyForm
from parties.models import RSVP, DinnerParty, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    admin_form_data,
    assert_seats_consistent,
    client_for,
    flash_messages,
    going,
    open_potluck,
    page_text,
)

pytestmark = pytest.mark.django_db


def party_data(**overrides) -> dict[str, str]:
    return {
        "title": "Cassoulet night",
        "starts_at": "2030-12-12T19:00",
        "timezone": "Europe/Paris",
        "venue": "Rue des Martyrs 8, Paris",
        "main_dish": "Cassoulet",
        "seats": "6",
        "description": "",
        "visibility": "private",
    } | overrides


# --- 2: plus-ones and the waitlist ------------------------------------------------


@pytest.fixture
def one_seat_left(party):
    """Ana's party for 4 with 3 seats taken."""
    going(party, UserFactory(first_name="Carla"), plus_ones=2)
    party.refresh_from_db()
    return party


def ask_for_three(client, party):
    response = client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "going", "plus_ones": "2", "note": "I'll bring cheese"},
    )
    client.get(party.get_absolute_url())  # (which shows the message)
    return response


def test_asking_for_more_seats_than_are_left_says_what_happened(one_seat_left, guest, guest_client):
    response = ask_for_three(guest_client, one_seat_left)

    (message,) = flash_messages(response)
    assert message.startswith("Only 1 seat left at")
    assert "come alone now, or wait for 3 seats together — you're #1 on the waitlist." in message
    assert RSVP.objects.get(guest=guest).status == RSVPStatus.WAITLISTED


def test_the_waitlisted_guest_is_offered_to_come_alone_with_one_tap(
    one_seat_left, guest, guest_client
):
    ask_for_three(guest_client, one_seat_left)

    response = guest_client.get(one_seat_left.get_absolute_url())

    text = page_text(response)
    assert "Only 1 seat is free: come alone now, or wait for 3 seats together." in text
    assert "2 more seats would seat you and your 2 plus-ones." in text
    markup = response.content.decode()
    assert f'action="{reverse("parties:rsvp_fewer", args=[one_seat_left.pk])}"' in markup
    assert 'name="plus_ones" value="0"' in markup
    assert ">Come alone now</button>" in markup


def test_coming_alone_seats_the_guest_and_keeps_their_note(one_seat_left, guest, guest_client):
    ask_for_three(guest_client, one_seat_left)

    response = guest_client.post(
        reverse("parties:rsvp_fewer", args=[one_seat_left.pk]), {"plus_ones": "0"}
    )

    assert response.status_code == 302
    rsvp = RSVP.objects.get(guest=guest)
    assert (rsvp.status, rsvp.plus_ones, rsvp.note) == (RSVPStatus.GOING, 0, "I'll bring cheese")
    assert flash_messages(response)[0].startswith("You're going to")
    one_seat_left.refresh_from_db()
    assert one_seat_left.seats_taken == 4
    assert_seats_consistent()


def test_a_full_table_says_how_many_more_seats_would_seat_the_guest(party, guest, guest_client):
    going(party, UserFactory(), plus_ones=3)
    services.rsvp_submit(party=party, guest=guest, status="going", plus_ones=1)

    text = page_text(guest_client.get(party.get_absolute_url()))

    assert "2 more seats would seat you and your 1 plus-one." in text
    assert "Come alone now" not in text


def test_two_seats_free_offers_coming_with_one_plus_one(party, guest, guest_client):
    going(party, UserFactory(), plus_ones=1)
    services.rsvp_submit(party=party, guest=guest, status="going", plus_ones=3)

    text = page_text(guest_client.get(party.get_absolute_url()))

    assert "Only 2 seats are free: come with 1 plus-one now, or wait for 4 seats together." in text
    assert "Come with 1 plus-one now" in text


def test_coming_with_fewer_when_the_seats_went_meanwhile_keeps_the_waitlist_place(
    one_seat_left, guest, guest_client
):
    ask_for_three(guest_client, one_seat_left)
    going(one_seat_left, UserFactory())  # takes the last seat

    response = guest_client.post(
        reverse("parties:rsvp_fewer", args=[one_seat_left.pk]), {"plus_ones": "0"}
    )

    assert flash_messages(response) == [
        "Those seats have just been taken, so you're still on the waitlist."
    ]
    assert RSVP.objects.get(guest=guest).status == RSVPStatus.WAITLISTED
    assert_seats_consistent()


def test_coming_with_fewer_is_refused_to_a_guest_not_on_the_waitlist(party, guest, guest_client):
    going(party, guest, plus_ones=1)

    response = guest_client.post(reverse("parties:rsvp_fewer", args=[party.pk]), {"plus_ones": "0"})

    assert flash_messages(response) == ["You're not on the waitlist any more: nothing changed."]
    assert RSVP.objects.get(guest=guest).plus_ones == 1


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", "Say how many plus-ones you're bringing."),
        ("9" * 500, "Ensure this value is less than or equal to 5."),
        ("two", "Plus-ones must be a whole number."),
        ("<script>alert(1)</script>", "Plus-ones must be a whole number."),
        ("-1", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_a_bad_come_with_fewer_request_is_a_clear_message_and_changes_nothing(
    one_seat_left, guest, guest_client, value, error
):
    ask_for_three(guest_client, one_seat_left)

    response = guest_client.post(
        reverse("parties:rsvp_fewer", args=[one_seat_left.pk]), {"plus_ones": value}
    )

    assert response.status_code == 302
    assert flash_messages(response) == [error]
    rsvp = RSVP.objects.get(guest=guest)
    assert (rsvp.status, rsvp.plus_ones) == (RSVPStatus.WAITLISTED, 2)


def test_coming_with_fewer_to_someone_elses_private_party_is_404(host, guest_client):
    private = DinnerPartyFactory(host=host, visibility=Visibility.PRIVATE)

    response = guest_client.post(reverse("parties:rsvp_fewer", args=[private.pk]), {"plus_ones": 0})

    assert response.status_code == 404
    assert not RSVP.objects.exists()


def test_coming_with_fewer_to_a_missing_party_is_404(guest_client):
    response = guest_client.post(reverse("parties:rsvp_fewer", args=[999999]), {"plus_ones": "0"})
    assert response.status_code == 404


def test_coming_with_fewer_is_post_only(party, guest_client):
    response = guest_client.get(reverse("parties:rsvp_fewer", args=[party.pk]))
    assert response.status_code == 405


# --- 3: the host's main dish is tagged and checked ---------------------------------


def test_the_host_tags_the_main_dish_like_any_dish(party, host_client):
    response = host_client.post(
        reverse("parties:update", args=[party.pk]),
        party_data(
            main_dish="Seafood paella",
            main_dish_allergens=["crustaceans", "molluscs"],
            main_dish_allergens_complete="on",
            main_dish_suits=["dairy_free"],
        ),
    )

    assert response.status_code == 302
    party.refresh_from_db()
    assert party.main_dish_allergens == ["crustaceans", "molluscs"]
    assert party.main_dish_allergens_complete is True
    assert party.main_dish_suits == ["dairy_free"]


def test_an_unknown_main_dish_tag_is_a_form_error(party, host_client):
    response = host_client.post(
        reverse("parties:update", args=[party.pk]),
        party_data(main_dish_allergens=["<script>"], main_dish_suits=["carnivore"]),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "main_dish_allergens" in errors
    assert "main_dish_suits" in errors


def test_the_main_dish_is_checked_against_a_guests_allergies(party, guest, guest_client):
    guest.allergies = ["molluscs"]
    guest.save()
    DinnerParty.objects.filter(pk=party.pk).update(
        main_dish="Paella", main_dish_allergens=["molluscs"], main_dish_allergens_complete=True
    )

    text = page_text(guest_client.get(party.get_absolute_url()))

    assert "Host's main Paella Molluscs" in text
    assert "Heads up: this may not suit you (contains molluscs)." in text


def test_the_summary_counts_the_main_dish_in_its_course(party, host, host_client):
    vegan = UserFactory(first_name="Vera", diets=["vegan"])
    going(party, vegan)
    DinnerParty.objects.filter(pk=party.pk).update(main_dish_suits=["vegan"])

    text = page_text(host_client.get(party.get_absolute_url()))

    assert f"{vegan.display_name}: Main ✓" in text


# --- 4: private by default -------------------------------------------------------


def test_a_new_party_is_private_unless_the_host_says_otherwise(host):
    form = PartyForm(host=host)

    assert form["visibility"].value() == Visibility.PRIVATE
    assert DinnerParty(host=host).visibility == Visibility.PRIVATE


def test_the_create_page_says_who_sees_a_public_party(host_client):
    text = page_text(host_client.get(reverse("parties:create")))

    assert "Public: every member who logs in sees it in the party list" in text
    assert "the exact address unless you choose below to show it only to guests" in text
    assert "On a public party, “everyone who can see the party” is every member" in text


# --- 6: the time in the viewer's zone ---------------------------------------------


def test_the_party_time_is_also_given_in_the_viewers_own_zone(host):
    party = DinnerPartyFactory(
        host=host, starts_at=datetime(2030, 6, 12, 18, 30, tzinfo=UTC), timezone="Europe/Paris"
    )
    viewer = UserFactory(timezone="America/New_York")

    text = page_text(client_for(viewer).get(party.get_absolute_url()))

    assert "Wed 12 Jun, 20:30 CEST (2:30 pm your time)" in text


def test_another_day_in_the_viewers_zone_is_named(host):
    party = DinnerPartyFactory(
        host=host, starts_at=datetime(2030, 6, 12, 18, 30, tzinfo=UTC), timezone="Europe/Paris"
    )
    viewer = UserFactory(timezone="Asia/Tokyo")

    text = page_text(client_for(viewer).get(party.get_absolute_url()))

    assert "(Thu 13 Jun, 3:30 am your time)" in text


def test_a_viewer_in_the_partys_zone_sees_no_second_time(party, host_client):
    assert "your time" not in page_text(host_client.get(party.get_absolute_url()))


# --- 7: counting people -----------------------------------------------------------


def test_the_guest_list_counts_people_and_replies(party, guest_client):
    going(party, UserFactory(first_name="Carla"), plus_ones=1)
    going(party, UserFactory(first_name="Dan"))

    text = page_text(guest_client.get(party.get_absolute_url()))

    assert "Going 3 people · 2 replies" in text


def test_a_guest_who_cant_go_is_listed_without_their_old_plus_ones(party, guest, guest_client):
    going(party, guest, plus_ones=2)
    guest_client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "declined", "plus_ones": "2", "plus_one_diets": ["vegan"]},
    )

    rsvp = RSVP.objects.get(guest=guest)
    assert (rsvp.plus_ones, rsvp.plus_one_diets) == (0, [])
    text = page_text(guest_client.get(party.get_absolute_url()))
    assert f"Can't go 1 reply {guest.display_name}" in text
    assert "+2" not in text
    assert_seats_consistent()


# --- 8: the first reply --------------------------------------------------------------


def test_a_first_reply_has_nothing_chosen(party, guest_client):
    response = guest_client.get(party.get_absolute_url())

    assert response.context["rsvp_form"]["status"].value() is None
    assert 'value="going" checked' not in response.content.decode()


def test_a_reply_without_a_choice_says_what_to_choose(party, guest, guest_client):
    response = guest_client.post(reverse("parties:rsvp", args=[party.pk]), {"plus_ones": "0"})

    assert response.status_code == 400
    assert "Choose going, maybe or can't go." in page_text(response)
    assert not RSVP.objects.filter(guest=guest).exists()


def test_the_reply_comes_right_after_the_essentials(party, guest_client):
    markup = guest_client.get(party.get_absolute_url()).content.decode()

    assert markup.index("Seats</dt>") < markup.index("Are you coming?") < markup.index('id="menu"')


# --- 15: the note for guests at the table ----------------------------------------


@pytest.fixture
def hidden_address(host):
    return DinnerPartyFactory(
        host=host,
        seats=4,
        hide_address=True,
        area="Kreuzberg",
        table_note="Buzzer says Silva, 3rd floor",
    )


def test_the_table_note_is_shown_where_the_exact_address_is(hidden_address, guest, guest_client):
    assert "Buzzer says Silva" not in page_text(guest_client.get(hidden_address.get_absolute_url()))

    going(hidden_address, guest)

    text = page_text(guest_client.get(hidden_address.get_absolute_url()))
    assert "For guests at the table Buzzer says Silva, 3rd floor" in text


def test_the_host_sees_their_table_note(hidden_address, host_client):
    assert "Buzzer says Silva" in page_text(host_client.get(hidden_address.get_absolute_url()))


def test_waitlisted_and_maybe_guests_do_not_see_the_table_note(hidden_address):
    going(hidden_address, UserFactory(), plus_ones=3)
    waiting, maybe = UserFactory(), UserFactory()
    services.rsvp_submit(party=hidden_address, guest=waiting, status="going")
    services.rsvp_submit(party=hidden_address, guest=maybe, status="maybe")

    for viewer in (waiting, maybe):
        text = page_text(client_for(viewer).get(hidden_address.get_absolute_url()))
        assert "Buzzer says Silva" not in text


def test_the_host_writes_a_table_note(party, host_client):
    response = host_client.post(
        reverse("parties:update", args=[party.pk]),
        party_data(table_note="Ring twice\nSecond door on the left"),
    )

    assert response.status_code == 302
    party.refresh_from_db()
    assert party.table_note == "Ring twice\nSecond door on the left"


def test_a_table_note_is_escaped(party, guest, guest_client):
    DinnerParty.objects.filter(pk=party.pk).update(table_note="<script>alert(1)</script>")
    going(party, guest)

    markup = guest_client.get(party.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("x" * 1001, "Ensure this value has at most 1000 characters (it has 1001)."),
        ("Ring\x00twice", "Null characters are not allowed."),
    ],
)
def test_a_bad_table_note_is_a_form_error(party, host_client, value, error):
    response = host_client.post(
        reverse("parties:update", args=[party.pk]), party_data(table_note=value)
    )

    assert response.status_code == 200
    assert error in response.context["form"].errors["table_note"]
    party.refresh_from_db()
    assert party.table_note == ""


def test_an_empty_table_note_is_fine(party, host_client):
    response = host_client.post(reverse("parties:update", args=[party.pk]), party_data())
    assert response.status_code == 302


# --- 12: wording ----------------------------------------------------------------------


def test_counts_of_one_are_singular_on_the_hosts_page(host, host_client):
    party = DinnerPartyFactory(host=host)
    text = page_text(host_client.get(party.get_absolute_url()))
    assert "Suggested for 1 person;" in text

    open_potluck(party, drinks=1, dessert=2)
    text = page_text(host_client.get(party.get_absolute_url()))
    assert "Drinks 1 drink wanted" in text
    assert "Dessert 2 desserts wanted" in text


def test_the_summary_says_gluten_once_and_plainly(party, host_client):
    coeliac = UserFactory(
        first_name="Gia",
        diets=["gluten_free"],
        allergies=["gluten"],
        dietary_notes="gluten-free, no gluten, hates coriander",
    )
    going(party, coeliac)

    text = page_text(host_client.get(party.get_absolute_url()))

    assert f"{coeliac.display_name}: hates coriander Gluten-free; allergic to gluten" in text
    assert "allergic to cereals" not in text.lower()


def test_a_message_just_sent_says_now_not_0_minutes_ago(party, host, guest, guest_client):
    going(party, guest)
    services.announce(party=party, author=host, audience="going", text="Bring a coat")

    text = page_text(guest_client.get(party.get_absolute_url()))

    assert "Bring a coat" in text
    assert "0 minutes" not in text
    assert f"{host.display_name} · now" in text


def test_the_menu_bar_says_profile_not_the_username(party, guest, guest_client):
    markup = guest_client.get(reverse("parties:list")).content.decode()

    assert f'href="{reverse("profile")}">Profile</a>' in markup
    assert f">{guest.username}<" not in markup


def test_the_admin_says_waitlisted_not_going_after_a_full_table(party):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    DinnerParty.objects.filter(pk=party.pk).update(seats=1)
    going(party, UserFactory())
    latecomer = UserFactory()

    response = client_for(admin).post(
        reverse("admin:parties_rsvp_add"),
        {"party": party.pk, "guest": latecomer.pk, "status": "going", "plus_ones": 0, "note": ""},
    )

    said = flash_messages(response)
    assert "The table is full: waitlisted at #1." in said
    assert any("(Waitlisted)" in text and "successfully" in text for text in said)
    assert not any("(Going)" in text for text in said)


def test_the_admin_says_nothing_succeeded_when_a_reply_is_refused(party, guest):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    DinnerParty.objects.filter(pk=party.pk).update(seats=2)
    rsvp = going(party, guest)
    going(party, UserFactory())
    client = client_for(admin)
    url = reverse("admin:parties_rsvp_change", args=[rsvp.pk])
    data = admin_form_data(client.get(url))

    response = client.post(url, data | {"plus_ones": "1"})

    said = flash_messages(response)
    assert "Only 1 seat free for you, so you can bring at most 0 plus-ones." in said
    assert not any("successfully" in text for text in said)
    rsvp.refresh_from_db()
    assert rsvp.plus_ones == 0


# --- 14: icons ----------------------------------------------------------------------

EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


def test_party_cards_use_svg_icons_with_labels_for_screen_readers(party, guest_client):
    markup = guest_client.get(reverse("parties:list")).content.decode()

    card = markup[markup.index('class="card party-card') :]
    assert not EMOJI.search(markup)
    assert card.count('<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"') >= 3
    assert '<span class="visually-hidden">Venue: </span>' in card
    assert '<span class="visually-hidden">Main dish: </span>' in card


def test_the_party_page_and_error_pages_have_no_emoji(party, guest_client):
    assert not EMOJI.search(guest_client.get(party.get_absolute_url()).content.decode())
    assert not EMOJI.search(guest_client.get("/parties/999999/").content.decode())


def test_the_admin_tags_the_main_dish_with_tick_boxes(party):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = client_for(admin)
    url = reverse("admin:parties_dinnerparty_change", args=[party.pk])
    data = admin_form_data(client.get(url))
    assert 'type="checkbox" name="main_dish_allergens" value="gluten"' in (
        client.get(url).content.decode()
    )

    response = client.post(url, data | {"main_dish_allergens": ["gluten", "eggs"]})

    assert response.status_code == 302
    party.refresh_from_db()
    assert party.main_dish_allergens == ["gluten", "eggs"]


def test_a_waitlisted_group_that_fits_already_is_offered_nothing(party, guest):
    going(party, UserFactory(), plus_ones=3)
    rsvp = services.rsvp_submit(party=party, guest=guest, status="going", plus_ones=1).rsvp
    DinnerParty.objects.filter(pk=party.pk).update(seats=6)  # (behind the service's back)
    party.refresh_from_db()

    assert selectors.seat_offer(party, rsvp) is None


def test_the_list_cards_give_the_time_in_the_viewers_zone_too(host):
    DinnerPartyFactory(
        host=host, starts_at=datetime(2030, 6, 12, 18, 30, tzinfo=UTC), timezone="Europe/Paris"
    )
    paris = UserFactory(timezone="Europe/Paris")
    new_york = UserFactory(timezone="America/New_York")

    # Paris first: its cards, cached, must not be what New York gets.
    assert "your time" not in page_text(client_for(paris).get(reverse("parties:list")))
    text = page_text(client_for(new_york).get(reverse("parties:list")))
    assert "Wed 12 Jun, 20:30 CEST (2:30 pm your time)" in text
