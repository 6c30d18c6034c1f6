"""Rendered cards are cached; these prove no card is ever stale after a change."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import going, page_text

pytestmark = pytest.mark.django_db


def test_a_card_shows_the_new_seat_count_right_after_an_rsvp(party, guest_client):
    assert "4 seats left" in page_text(guest_client.get(reverse("parties:list")))

    going(party, UserFactory(), plus_ones=1)

    assert "2 seats left" in page_text(guest_client.get(reverse("parties:list")))


def test_a_card_shows_full_when_the_last_seat_goes(party, guest_client):
    guest_client.get(reverse("parties:list"))
    going(party, UserFactory(), plus_ones=3)

    assert "Full — waitlist open" in page_text(guest_client.get(reverse("parties:list")))


def test_an_edit_shows_on_the_cards_at_once(party, guest_client):
    guest_client.get(reverse("parties:list"))
    Client().get(reverse("home"))

    services.party_update(party=party, changes={"title": "Tapas night", "main_dish": "Tortilla"})

    for page in (guest_client.get(reverse("parties:list")), Client().get(reverse("home"))):
        text = page_text(page)
        assert "Tapas night" in text
        assert "Tortilla" in text
        assert "Paella night" not in text


def test_a_host_renaming_themselves_shows_on_the_cards(party, guest_client):
    guest_client.get(reverse("parties:list"))
    party.host.first_name = "Anabel"
    party.host.save()

    assert "Hosted by Anabel" in page_text(guest_client.get(reverse("parties:list")))


def test_the_anonymous_landing_page_drops_a_party_that_goes_private(party):
    assert "Paella night" in page_text(Client().get(reverse("home")))

    services.party_update(party=party, changes={"visibility": Visibility.PRIVATE})

    assert "Paella night" not in page_text(Client().get(reverse("home")))


def test_cards_cached_for_one_viewer_never_show_another_the_hidden_address(host, guest):
    hidden = DinnerPartyFactory(
        host=host, venue="Wiener Straße 14", area="Kreuzberg", hide_address=True, seats=4
    )
    seated = UserFactory()
    going(hidden, seated)
    seated_client, guest_client = Client(), Client()
    seated_client.force_login(seated)
    guest_client.force_login(guest)

    assert "Wiener Straße 14" in page_text(seated_client.get(reverse("parties:list")))
    text = page_text(guest_client.get(reverse("parties:list")))
    assert "Wiener Straße 14" not in text
    assert "Kreuzberg" in text


def test_the_guest_list_and_reply_form_show_changes_at_once(party, guest, guest_client):
    guest_client.get(party.get_absolute_url())
    newcomer = UserFactory(first_name="Zora", last_name="Quinn")
    going(party, newcomer, plus_ones=2)
    going(party, guest, plus_ones=1)

    page = guest_client.get(party.get_absolute_url())

    text = page_text(page)
    assert "Zora Quinn +2" in text
    assert 'name="plus_ones" value="1"' in page.content.decode()
    newcomer.first_name = "Zoe"
    newcomer.save()
    assert "Zoe Quinn +2" in page_text(guest_client.get(party.get_absolute_url()))


# --- the party page's menu and messages, cached under the party's version ----------


def test_the_menu_shows_a_dish_at_once_when_it_is_added_changed_and_removed(
    party, host, guest_client
):
    guest_client.get(party.get_absolute_url())

    dish = services.dish_add(party=party, cook=host, course="dessert", name="Crema catalana")
    assert "Crema catalana" in page_text(guest_client.get(party.get_absolute_url()))

    services.dish_update(dish=dish, name="Flan")
    text = page_text(guest_client.get(party.get_absolute_url()))
    assert "Flan" in text
    assert "Crema catalana" not in text

    services.dish_remove(dish=dish)
    assert "Flan" not in page_text(guest_client.get(party.get_absolute_url()))


def test_a_message_and_its_author_s_new_name_show_at_once(party, host, guest, guest_client):
    going(party, guest)
    guest_client.get(party.get_absolute_url())

    services.announce(party=party, author=host, audience="all", text="Bring a jumper")
    assert "Bring a jumper" in page_text(guest_client.get(party.get_absolute_url()))

    host.first_name, host.last_name = "Anabel", "Ruiz"
    host.save()
    assert "Anabel Ruiz" in page_text(guest_client.get(party.get_absolute_url()))


def test_a_claimed_and_released_slot_shows_at_once(party, guest, guest_client):
    going(party, guest)
    services.potluck_set_slots(party=party, wanted={"dessert": 1})
    assert "1 dessert wanted" in page_text(guest_client.get(party.get_absolute_url()))

    services.slot_claim(party=party, guest=guest, course="dessert", name="Churros")
    text = page_text(guest_client.get(party.get_absolute_url()))
    assert "Churros" in text
    assert "1 dessert wanted" not in text

    services.rsvp_submit(party=party, guest=guest, status="declined")
    text = page_text(guest_client.get(party.get_absolute_url()))
    assert "Churros" not in text
    assert "1 dessert wanted" in text


def test_a_co_host_who_deletes_their_account_leaves_no_dish_behind(party, guest, guest_client):
    cohost = UserFactory()
    services.cohost_add(party=party, user=cohost)
    services.dish_add(party=party, cook=cohost, course="starter", name="Pan con tomate")
    assert "Pan con tomate" in page_text(guest_client.get(party.get_absolute_url()))

    services.user_delete(user=cohost)

    assert "Pan con tomate" not in page_text(guest_client.get(party.get_absolute_url()))


def test_cached_menu_data_holds_no_password_hashes(party, host, guest_client):
    services.dish_add(party=party, cook=host, course="main", name="Paella")
    services.announce(party=party, author=host, audience="all", text="Doors at seven")
    party.refresh_from_db()
    guest_client.get(party.get_absolute_url())

    extras = cache.get(f"party-extras:{party.pk}:{party.version}")
    assert extras.dishes
    assert extras.announcements
    assert "password" in extras.dishes[0].added_by.get_deferred_fields()
    assert "password" in extras.announcements[0].author.get_deferred_fields()
