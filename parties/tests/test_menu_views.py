"""Diets on profiles and replies, the menu, the potluck and the host's dinner
summary, as people use them through the site."""

import html
from importlib import import_module

import pytest
from django.db import migrations
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from common.food import Course
from parties import services
from parties.models import RSVP, DinnerParty, Dish, PotluckSlot, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    add_dish,
    claim,
    client_for,
    dish_data,
    dish_line,
    flash_messages,
    going,
    open_potluck,
    page_text,
    spaced_text,
    ticked,
)

pytestmark = pytest.mark.django_db

FORM_ERRORS = "Please fix the errors below."
NOT_GOING = "Only guests who are going can bring a dish."
HOSTILE = '<script>alert("x")</script> & Co'
LONG = "x" * 10_000


def person(first: str, **needs) -> User:
    """A user called just `first`, with the diets and allergies given."""
    return UserFactory(username=first.lower(), first_name=first, last_name="", **needs)


def slots_free(party: DinnerParty, course: str) -> int:
    return PotluckSlot.objects.filter(party=party, course=course, dish__isnull=True).count()


@pytest.fixture
def potluck(party):
    """The host's party with 2 desserts and 1 main wanted."""
    open_potluck(party, dessert=2, main=1)
    return party


# --- Profiles -------------------------------------------------------------------------


def profile_data(user: User, **overrides) -> dict:
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "diets": list(user.diets),
        "allergies": list(user.allergies),
        "dietary_notes": user.dietary_notes,
        "timezone": user.timezone,
    } | overrides


def test_the_profile_saves_diets_and_allergies(guest, guest_client):
    response = guest_client.post(
        reverse("profile"),
        profile_data(guest, diets=["vegetarian", "gluten_free"], allergies=["sesame", "soya"]),
    )

    assert response.status_code == 302
    assert "Your profile has been saved." in flash_messages(response)
    guest.refresh_from_db()
    assert sorted(guest.diets) == ["gluten_free", "vegetarian"]
    assert sorted(guest.allergies) == ["sesame", "soya"]
    page = guest_client.get(reverse("profile"))
    assert ticked(page, "diets") == {"vegetarian", "gluten_free"}
    assert ticked(page, "allergies") == {"sesame", "soya"}


def test_the_profile_clears_diets_when_every_box_is_unticked(guest, guest_client):
    guest.diets, guest.allergies = ["vegan"], ["milk"]
    guest.save()
    data = profile_data(guest)
    del data["diets"], data["allergies"]  # a browser sends no unticked boxes

    response = guest_client.post(reverse("profile"), data)

    assert response.status_code == 302
    guest.refresh_from_db()
    assert (guest.diets, guest.allergies) == ([], [])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("diets", ["vegan", "paleo"]),
        ("diets", ["peanuts"]),
        ("allergies", ["milk", "strawberries"]),
        ("allergies", ["vegan"]),
        ("allergies", ["x" * 10_000]),
    ],
)
def test_the_profile_refuses_unknown_codes_and_saves_nothing(guest, guest_client, field, value):
    guest.dietary_notes = "no coriander"
    guest.save()

    response = guest_client.post(
        reverse("profile"),
        profile_data(guest, first_name="Changed") | {"diets": ["halal"], field: value},
    )

    assert response.status_code == 200
    assert FORM_ERRORS in flash_messages(response)
    errors = response.context["form"].errors[field]
    assert any("is not one of the available choices" in error for error in errors)
    guest.refresh_from_db()
    assert (guest.first_name, guest.diets, guest.allergies) == ("Ben", [], [])


def test_existing_dietary_notes_are_kept_alongside_diets(guest, guest_client):
    # Notes written before diets existed: the migration only added the new fields.
    guest.dietary_notes = "No coriander, please — it tastes of soap to me."
    guest.save()
    guest.refresh_from_db()
    assert guest.diets == []
    assert guest.allergies == []

    response = guest_client.post(
        reverse("profile"), profile_data(guest, diets=["pescatarian"], allergies=["mustard"])
    )

    assert response.status_code == 302
    guest.refresh_from_db()
    assert guest.dietary_notes == "No coriander, please — it tastes of soap to me."
    assert (guest.diets, guest.allergies) == (["pescatarian"], ["mustard"])
    assert "it tastes of soap to me." in page_text(guest_client.get(reverse("profile")))


def test_the_diets_migration_only_adds_fields():
    migration = import_module("accounts.migrations.0002_diets_and_allergies").Migration
    assert {type(op) for op in migration.operations} == {migrations.AddField}
    assert {op.name for op in migration.operations} == {"diets", "allergies"}


# --- Replies with plus-ones -----------------------------------------------------------


def rsvp(client, party, status="going", plus_ones=0, diets=(), allergies=(), note=""):
    return client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {
            "status": status,
            "plus_ones": plus_ones,
            "plus_one_diets": list(diets),
            "plus_one_allergies": list(allergies),
            "note": note,
        },
    )


def test_a_reply_with_plus_ones_keeps_their_diets_and_allergies(party, guest, guest_client):
    response = rsvp(guest_client, party, plus_ones=2, diets=["vegan"], allergies=["sesame", "soya"])

    assert response.status_code == 302
    reply = RSVP.objects.get(party=party, guest=guest)
    assert (reply.status, reply.plus_ones) == ("going", 2)
    assert reply.plus_one_diets == ["vegan"]
    assert sorted(reply.plus_one_allergies) == ["sesame", "soya"]


def test_a_reply_without_plus_ones_clears_their_diets(party, guest, guest_client):
    rsvp(guest_client, party, plus_ones=1, diets=["halal"], allergies=["fish"])

    # The boxes are still ticked in the form, but nobody is coming with the guest.
    response = rsvp(guest_client, party, plus_ones=0, diets=["halal"], allergies=["fish"])

    assert response.status_code == 302
    reply = RSVP.objects.get(party=party, guest=guest)
    assert (reply.plus_ones, reply.plus_one_diets, reply.plus_one_allergies) == (0, [], [])


@pytest.mark.parametrize(
    ("field", "value"),
    [("plus_one_diets", ["paleo"]), ("plus_one_allergies", ["strawberries"])],
)
def test_a_reply_with_unknown_codes_is_refused(party, guest_client, field, value):
    data = {"status": "going", "plus_ones": 1, "note": "", field: value}

    response = guest_client.post(reverse("parties:rsvp", args=[party.pk]), data)

    assert response.status_code == 400
    assert FORM_ERRORS in flash_messages(response)
    assert "is not one of the available choices" in response.context["rsvp_form"].errors[field][0]
    assert not RSVP.objects.exists()


# --- The host's own dishes ------------------------------------------------------------


def test_the_host_adds_dishes_of_their_own(party, host, host_client):
    response = add_dish(
        host_client,
        party,
        course="starter",
        name="Gazpacho",
        allergens=["celery"],
        suits=["vegan", "gluten_free"],
        complete=True,
    )

    assert response.status_code == 302
    assert "“Gazpacho” is on the menu." in flash_messages(response)
    dish = Dish.objects.get()
    assert (dish.course, dish.added_by, dish.slot) == ("starter", host, None)
    assert (dish.allergens, dish.allergens_complete) == (["celery"], True)
    assert sorted(dish.suits) == ["gluten_free", "vegan"]
    line = dish_line(host_client.get(party.get_absolute_url()), "Gazpacho")
    assert line.startswith("Gazpacho — from the host Celery Vegan Gluten-free Change Remove")
    assert "Allergens not confirmed" not in line


def test_the_menu_is_headed_by_the_main_dish(party, guest_client):
    text = page_text(guest_client.get(party.get_absolute_url()))

    assert f"Menu Main Host's main {party.main_dish}" in text


def test_a_dish_with_unconfirmed_allergens_says_so(party, host_client):
    add_dish(host_client, party, name="Bread", allergens=["gluten"], complete=False)

    line = dish_line(host_client.get(party.get_absolute_url()), "Bread")

    assert "Cereals containing gluten" in line
    assert "Allergens not confirmed" in line


def test_a_guest_cannot_add_a_dish_of_their_own(party, guest, guest_client):
    going(party, guest)

    response = add_dish(guest_client, party)

    assert response.status_code == 404
    assert not Dish.objects.exists()


# --- Opening the potluck --------------------------------------------------------------


def test_the_potluck_form_suggests_counts_from_the_head_count(host, host_client):
    party = DinnerPartyFactory(host=host, seats=10)
    for _ in range(4):
        going(party, UserFactory(), plus_ones=1)  # 8 guests and the host: 9 people

    response = host_client.get(party.get_absolute_url())

    assert "Open a potluck" in page_text(response)
    assert "Suggested for 9 people; change as you like." in page_text(response)
    form = response.context["potluck_form"]
    counts = {name: form[name].value() for name in Course.values}
    assert counts == {"starter": 2, "main": 2, "side": 3, "dessert": 2, "drinks": 2}
    assert 'name="side" value="3"' in response.content.decode()


def test_the_host_opens_a_potluck(party, host_client, guest_client):
    response = host_client.post(
        reverse("parties:potluck", args=[party.pk]),
        {"starter": 1, "main": 0, "side": 3, "dessert": 2, "drinks": 1},
    )

    assert response.status_code == 302
    assert (
        "The potluck is open: guests who are going can now pick a course to bring."
        in flash_messages(response)
    )
    party.refresh_from_db()
    assert party.potluck
    assert sorted(PotluckSlot.objects.values_list("course", "position")) == [
        ("dessert", 1),
        ("dessert", 2),
        ("drinks", 1),
        ("side", 1),
        ("side", 2),
        ("side", 3),
        ("starter", 1),
    ]
    text = page_text(guest_client.get(party.get_absolute_url()))
    for wanted in ("1 starter wanted", "3 sides wanted", "2 desserts wanted", "1 drink wanted"):
        assert wanted in text
    assert "mains wanted" not in text
    assert "main wanted" not in text
    # The form now shows the counts chosen, not the suggestion.
    form = host_client.get(party.get_absolute_url()).context["potluck_form"]
    assert form["side"].value() == 3
    assert form["main"].value() == 0


@pytest.mark.parametrize("value", ["-1", "51", "many", ""])
def test_potluck_counts_must_be_0_to_50(party, host_client, value):
    data = {"starter": 1, "main": 1, "side": 1, "dessert": value, "drinks": 1}

    response = host_client.post(reverse("parties:potluck", args=[party.pk]), data)

    assert response.status_code == 400
    assert response.context["form"].errors["dessert"]
    assert not PotluckSlot.objects.exists()
    party.refresh_from_db()
    assert not party.potluck


def test_the_host_changes_the_counts(potluck, host_client):
    response = host_client.post(
        reverse("parties:potluck", args=[potluck.pk]),
        {"starter": 0, "main": 2, "side": 0, "dessert": 1, "drinks": 0},
    )

    assert response.status_code == 302
    assert slots_free(potluck, "dessert") == 1
    assert slots_free(potluck, "main") == 2


def test_counts_below_those_already_promised_are_refused(potluck, guest, guest_client, host_client):
    other = person("Chloé")
    going(potluck, guest)
    going(potluck, other)
    claim(guest_client, potluck, name="Lemon tart")
    claim(client_for(other), potluck, name="Pecan pie")

    response = host_client.post(
        reverse("parties:potluck", args=[potluck.pk]),
        {"starter": 3, "main": 1, "side": 0, "dessert": 1, "drinks": 0},
    )

    assert response.status_code == 400
    assert "2 desserts are already promised, so keep at least 2." in page_text(response)
    assert PotluckSlot.objects.filter(party=potluck, course="dessert").count() == 2
    assert not PotluckSlot.objects.filter(course="starter").exists()  # nothing half-done
    assert Dish.objects.count() == 2


def test_one_promised_dish_is_named_in_the_singular(potluck, guest, guest_client, host_client):
    going(potluck, guest)
    claim(guest_client, potluck, name="Lemon tart")

    response = host_client.post(
        reverse("parties:potluck", args=[potluck.pk]),
        {"starter": 0, "main": 1, "side": 0, "dessert": 0, "drinks": 0},
    )

    assert response.status_code == 400
    assert "1 dessert is already promised, so keep at least 1." in page_text(response)
    assert PotluckSlot.objects.filter(party=potluck, course="dessert").count() == 2


def test_fewer_slots_drop_free_ones_and_keep_the_claimed(potluck, guest, guest_client, host_client):
    open_potluck(potluck, dessert=3)
    going(potluck, guest)
    claim(guest_client, potluck, name="Lemon tart")

    response = host_client.post(
        reverse("parties:potluck", args=[potluck.pk]),
        {"starter": 0, "main": 0, "side": 0, "dessert": 1, "drinks": 0},
    )

    assert response.status_code == 302
    slot = PotluckSlot.objects.get(party=potluck, course="dessert")
    assert slot.dish.name == "Lemon tart"


# --- Claiming a slot --------------------------------------------------------------------


def test_a_going_guest_claims_a_slot(potluck, guest, guest_client):
    going(potluck, guest)
    page = guest_client.get(potluck.get_absolute_url())
    assert "Bring a dish" in page_text(page)
    assert set(dict(page.context["claim_form"].fields["course"].choices)) == {"main", "dessert"}

    response = claim(
        guest_client,
        potluck,
        course="dessert",
        name="Lemon tart",
        allergens=["eggs", "milk", "gluten"],
        suits=["vegetarian"],
        complete=True,
    )

    assert response.status_code == 302
    assert "Thank you! You're bringing “Lemon tart” (dessert)." in flash_messages(response)
    dish = Dish.objects.get()
    assert (dish.added_by, dish.course, dish.slot.course) == (guest, "dessert", "dessert")
    page = guest_client.get(potluck.get_absolute_url())
    text = page_text(page)
    assert "1 dessert wanted" in text
    assert "2 desserts wanted" not in text
    line = dish_line(page, "Lemon tart")
    assert f"brought by {guest.display_name}" in line
    for badge in ("Eggs", "Milk", "Cereals containing gluten", "Vegetarian"):
        assert badge in line
    assert "Release my slot" in line
    assert "Change" in line


@pytest.fixture
def replied(potluck, guest, request):
    """The guest, having replied with the status the test is parametrized with."""
    status = request.param
    if status == RSVPStatus.WAITLISTED:
        potluck.seats = 1
        potluck.save()
        going(potluck, UserFactory())
        status = RSVPStatus.GOING  # the table is full: they join the waitlist
    if status:
        services.rsvp_submit(party=potluck, guest=guest, status=status)
        assert RSVP.objects.get(guest=guest).status == request.param
    return guest


@pytest.mark.parametrize("replied", ["maybe", "waitlisted", "declined", None], indirect=True)
def test_a_guest_who_is_not_going_cannot_claim(potluck, replied, guest_client):
    page = guest_client.get(potluck.get_absolute_url())
    assert "claim_form" not in page.context

    response = claim(guest_client, potluck, name="Lemon tart")

    assert response.status_code == 400
    assert NOT_GOING in page_text(response)
    assert FORM_ERRORS in flash_messages(response)
    assert not Dish.objects.exists()
    assert slots_free(potluck, "dessert") == 2


def test_an_outsider_cannot_claim_on_a_private_party(potluck, guest_client):
    potluck.visibility = Visibility.PRIVATE
    potluck.save()

    response = claim(guest_client, potluck)

    assert response.status_code == 404
    assert not Dish.objects.exists()


def test_the_host_is_not_a_guest_and_cannot_claim(potluck, host_client):
    response = claim(host_client, potluck)

    assert response.status_code == 400
    assert NOT_GOING in page_text(response)
    assert not Dish.objects.exists()


def test_claiming_a_course_with_no_free_slot_is_refused(potluck, guest, guest_client):
    going(potluck, guest)
    chloe = person("Chloé")
    going(potluck, chloe)
    assert claim(client_for(chloe), potluck, course="main", name="Lasagne").status_code == 302

    response = claim(guest_client, potluck, course="main", name="Curry")

    assert response.status_code == 400
    assert "No mains are wanted any more — someone just took the last one." in page_text(response)
    assert "Curry" in response.content.decode()  # what they typed is still there
    assert list(Dish.objects.values_list("name", flat=True)) == ["Lasagne"]
    # The page no longer offers mains.
    page = guest_client.get(potluck.get_absolute_url())
    assert set(dict(page.context["claim_form"].fields["course"].choices)) == {"dessert"}


def test_claiming_a_course_never_wanted_is_refused(potluck, guest, guest_client):
    going(potluck, guest)

    response = claim(guest_client, potluck, course="drinks", name="Cava")

    assert response.status_code == 400
    assert "The host isn't asking for drinks" in page_text(response)
    assert not Dish.objects.exists()


def test_claiming_at_a_party_that_is_no_potluck_is_refused(party, guest, guest_client):
    going(party, guest)

    response = claim(guest_client, party)

    assert response.status_code == 400
    assert "This party isn't a potluck." in page_text(response)
    assert not Dish.objects.exists()


def test_a_guest_claims_two_slots_of_a_course(potluck, guest, guest_client):
    going(potluck, guest)

    claim(guest_client, potluck, name="Lemon tart")
    claim(guest_client, potluck, name="Brownies")

    assert slots_free(potluck, "dessert") == 0
    assert "desserts wanted" not in page_text(guest_client.get(potluck.get_absolute_url()))


# --- Changing and releasing dishes ----------------------------------------------------


@pytest.fixture
def chloes_tart(potluck):
    chloe = person("Chloé")
    going(potluck, chloe)
    return services.slot_claim(party=potluck, guest=chloe, course="dessert", name="Tarte tatin")


def test_the_cook_changes_their_dish_but_not_its_course(potluck, chloes_tart):
    client = client_for(chloes_tart.added_by)
    url = reverse("parties:dish_edit", args=[potluck.pk, chloes_tart.pk])
    form = client.get(url).context["form"]
    assert form.fields["course"].disabled

    response = client.post(
        url, dish_data(course="main", name="Apple tart", allergens=["eggs"], complete=True)
    )

    assert response.status_code == 302
    assert "“Apple tart” is updated." in flash_messages(response)
    chloes_tart.refresh_from_db()
    assert (chloes_tart.name, chloes_tart.course) == ("Apple tart", "dessert")
    assert (chloes_tart.allergens, chloes_tart.allergens_complete) == (["eggs"], True)


def test_the_cook_releases_their_slot(potluck, chloes_tart):
    client = client_for(chloes_tart.added_by)

    response = client.post(reverse("parties:dish_remove", args=[potluck.pk, chloes_tart.pk]))

    assert response.status_code == 302
    assert "You're no longer bringing “Tarte tatin”." in flash_messages(response)
    assert not Dish.objects.exists()
    assert "2 desserts wanted" in page_text(client.get(potluck.get_absolute_url()))


def test_someone_else_cannot_change_or_release_a_guests_dish(potluck, chloes_tart, guest):
    going(potluck, guest)
    client = client_for(guest)
    edit = reverse("parties:dish_edit", args=[potluck.pk, chloes_tart.pk])

    assert client.get(edit).status_code == 404
    assert client.post(edit, dish_data(name="Mud pie")).status_code == 404
    remove = reverse("parties:dish_remove", args=[potluck.pk, chloes_tart.pk])
    assert client.post(remove).status_code == 404
    chloes_tart.refresh_from_db()
    assert chloes_tart.name == "Tarte tatin"
    # No buttons for it either.
    line = dish_line(client.get(potluck.get_absolute_url()), "Tarte tatin")
    assert "Change" not in line
    assert "Remove" not in line
    assert "Release" not in line


def test_a_dish_is_only_found_under_its_own_party(potluck, chloes_tart):
    other_party = DinnerPartyFactory(host=chloes_tart.added_by)
    client = client_for(chloes_tart.added_by)

    edit = reverse("parties:dish_edit", args=[other_party.pk, chloes_tart.pk])
    remove = reverse("parties:dish_remove", args=[other_party.pk, chloes_tart.pk])

    assert client.get(edit).status_code == 404
    assert client.post(remove).status_code == 404
    assert Dish.objects.filter(pk=chloes_tart.pk).exists()


def test_the_host_removes_a_guests_dish(potluck, chloes_tart, host_client):
    line = dish_line(host_client.get(potluck.get_absolute_url()), "Tarte tatin")
    assert "Remove" in line
    assert "Change" not in line  # only the cook changes what they cook

    response = host_client.post(reverse("parties:dish_remove", args=[potluck.pk, chloes_tart.pk]))

    assert response.status_code == 302
    assert flash_messages(response) == ["“Tarte tatin” is off the menu."]
    assert not Dish.objects.exists()
    assert slots_free(potluck, "dessert") == 2
    edit = reverse("parties:dish_edit", args=[potluck.pk, chloes_tart.pk])
    assert host_client.get(edit).status_code == 404


def test_a_cohost_removes_any_dish(potluck, chloes_tart, host):
    cohost = person("Dev")
    potluck.cohosts.add(cohost)
    own = services.dish_add(party=potluck, cook=host, course="main", name="Paella")
    client = client_for(cohost)

    for dish in (chloes_tart, own):
        response = client.post(reverse("parties:dish_remove", args=[potluck.pk, dish.pk]))
        assert response.status_code == 302
        assert f"“{dish.name}” is off the menu." in flash_messages(response)

    assert not Dish.objects.exists()


@pytest.mark.parametrize("status", ["declined", "maybe"])
def test_not_going_any_more_releases_the_guests_claims(potluck, guest, guest_client, status):
    going(potluck, guest)
    claim(guest_client, potluck, name="Lemon tart")
    claim(guest_client, potluck, course="main", name="Curry")
    services.dish_add(party=potluck, cook=potluck.host, course="main", name="Paella")
    text = page_text(guest_client.get(potluck.get_absolute_url()))
    assert "2 desserts wanted" not in text
    assert "1 main wanted" not in text

    response = rsvp(guest_client, potluck, status=status)

    assert response.status_code == 302
    assert list(Dish.objects.values_list("name", flat=True)) == ["Paella"]
    text = page_text(guest_client.get(potluck.get_absolute_url()))
    assert "2 desserts wanted" in text
    assert "1 main wanted" in text
    assert "Lemon tart" not in text
    assert "Curry" not in text


def test_a_guest_who_leaves_the_table_loses_only_their_own_claims(potluck, chloes_tart, guest):
    going(potluck, guest)
    services.slot_claim(party=potluck, guest=guest, course="dessert", name="Lemon tart")

    services.rsvp_submit(party=potluck, guest=guest, status="declined")

    assert list(Dish.objects.values_list("name", flat=True)) == ["Tarte tatin"]


# --- Bad input ---------------------------------------------------------------------------


def test_a_10000_character_dish_name_is_refused_and_kept_in_the_form(party, host_client):
    response = add_dish(host_client, party, name=LONG)

    assert response.status_code == 400
    assert FORM_ERRORS in flash_messages(response)
    assert response.context["form"].errors["name"] == [
        "Ensure this value has at most 120 characters (it has 10000)."
    ]
    assert f'value="{LONG}"' in response.content.decode()
    assert not Dish.objects.exists()


def test_a_10000_character_claim_is_refused_and_kept_in_the_form(potluck, guest, guest_client):
    going(potluck, guest)

    response = claim(guest_client, potluck, name=LONG)

    assert response.status_code == 400
    assert response.context["form"].errors["name"] == [
        "Ensure this value has at most 120 characters (it has 10000)."
    ]
    assert f'value="{LONG}"' in response.content.decode()
    assert not Dish.objects.exists()


def test_a_10000_character_name_is_refused_when_changing_a_dish(potluck, chloes_tart):
    client = client_for(chloes_tart.added_by)

    response = client.post(
        reverse("parties:dish_edit", args=[potluck.pk, chloes_tart.pk]), dish_data(name=LONG)
    )

    assert response.status_code == 200
    assert FORM_ERRORS in flash_messages(response)
    assert response.context["form"].errors["name"]
    assert f'value="{LONG}"' in response.content.decode()
    chloes_tart.refresh_from_db()
    assert chloes_tart.name == "Tarte tatin"


def test_a_10000_character_message_is_refused_and_kept_in_the_form(party, host_client):
    response = host_client.post(
        reverse("parties:announce", args=[party.pk]), {"audience": "going", "text": LONG}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["text"] == [
        "Ensure this value has at most 1000 characters (it has 10000)."
    ]
    assert f"{LONG}</textarea>" in response.content.decode()
    assert not party.announcements.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allergens", ["nuts"]),
        ("allergens", ["milk", "vegan"]),
        ("suits", ["paleo"]),
        ("suits", ["peanuts"]),
        ("course", "dinner"),
    ],
)
def test_unknown_codes_are_refused_when_adding_a_dish(party, host_client, field, value):
    data = dish_data("dish") | {f"dish-{field}": value}

    response = host_client.post(reverse("parties:dish_add", args=[party.pk]), data)

    assert response.status_code == 400
    assert "is not one of the available choices" in response.context["form"].errors[field][0]
    assert not Dish.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("allergens", ["nuts"]), ("suits", ["paleo"])])
def test_unknown_codes_are_refused_when_claiming(potluck, guest, guest_client, field, value):
    going(potluck, guest)
    data = dish_data("claim") | {f"claim-{field}": value}

    response = guest_client.post(reverse("parties:slot_claim", args=[potluck.pk]), data)

    assert response.status_code == 400
    assert "is not one of the available choices" in response.context["form"].errors[field][0]
    assert not Dish.objects.exists()


def test_unknown_codes_are_refused_when_changing_a_dish(potluck, chloes_tart):
    client = client_for(chloes_tart.added_by)

    response = client.post(
        reverse("parties:dish_edit", args=[potluck.pk, chloes_tart.pk]),
        dish_data(name="Tarte tatin", allergens=["eggs", "nuts"]),
    )

    assert response.context["form"].errors["allergens"]
    chloes_tart.refresh_from_db()
    assert chloes_tart.allergens == []


def test_html_in_dish_names_is_escaped(potluck, guest, guest_client, host_client):
    guest.allergies = ["milk"]
    guest.save()
    going(potluck, guest)

    response = claim(guest_client, potluck, name=HOSTILE, allergens=["milk"], complete=True)
    assert response.status_code == 302
    flash = guest_client.get(potluck.get_absolute_url())

    escaped = html.escape(HOSTILE)
    for page in (flash, host_client.get(potluck.get_absolute_url())):
        markup = page.content.decode()
        assert "<script>alert" not in markup
        assert escaped in markup
    assert f"bringing “{escaped}” (dessert)" in flash.content.decode()
    edit = guest_client.get(
        reverse("parties:dish_edit", args=[potluck.pk, Dish.objects.get().pk])
    ).content.decode()
    assert "<script>alert" not in edit
    assert escaped in edit


# --- What the menu tells guests -------------------------------------------------------


def test_a_guest_is_warned_next_to_a_dish_that_does_not_suit_them(host, party):
    ben = person("Ben", allergies=["peanuts"], diets=["vegetarian"])
    going(party, ben)
    for name, course, allergens, suits in [
        ("Satay skewers", "starter", ["peanuts", "soya"], ["vegan"]),
        ("Steak frites", "main", [], ["gluten_free"]),
        ("Fruit salad", "dessert", [], ["vegan"]),
        ("Mystery stew", "main", [], []),
    ]:
        services.dish_add(
            party=party,
            cook=host,
            course=course,
            name=name,
            allergens=allergens,
            suits=suits,
            allergens_complete=name != "Mystery stew",
        )

    page = client_for(ben).get(party.get_absolute_url())

    assert dish_line(page, "Satay skewers").endswith(
        "Heads up: this may not suit you (contains peanuts)."
    )
    assert dish_line(page, "Steak frites").endswith(
        "Heads up: this may not suit you (not vegetarian)."
    )
    assert dish_line(page, "Mystery stew").endswith(
        "We can't tell if this suits you (allergens not confirmed, diets not stated)."
    )
    safe = dish_line(page, "Fruit salad")
    assert "Heads up" not in safe
    assert "can't tell" not in safe
    assert "Clashes" not in page_text(page)  # the table's clashes are for hosts only


def test_a_guest_is_warned_about_their_plus_ones_needs(host, party, guest, guest_client):
    services.rsvp_submit(
        party=party, guest=guest, status="going", plus_ones=1, plus_one_allergies=["sesame"]
    )
    services.dish_add(
        party=party,
        cook=host,
        course="side",
        name="Hummus",
        allergens=["sesame"],
        allergens_complete=True,
    )

    line = dish_line(guest_client.get(party.get_absolute_url()), "Hummus")

    assert line.endswith("Heads up: this may not suit you (contains sesame).")


def test_a_guest_with_no_needs_sees_no_warnings(host, party, guest, guest_client):
    going(party, guest)
    services.dish_add(party=party, cook=host, course="main", name="Mystery stew")

    line = dish_line(guest_client.get(party.get_absolute_url()), "Mystery stew")

    assert "Heads up" not in line
    assert "can't tell" not in line


# --- The host's dinner summary ----------------------------------------------------------


@pytest.fixture
def table(host):
    """A party with three going guests of different needs (one bringing a
    plus-one with their own), one waitlisted, one maybe and one declined."""
    party = DinnerPartyFactory(host=host, seats=5, title="Potluck for 8")
    ben = person("Ben", allergies=["crustaceans"])
    chloe = person("Chloé", allergies=["tree_nuts", "peanuts"], dietary_notes="no nuts, please")
    dev = person("Dev", diets=["gluten_free"])
    eva = person("Eva")
    services.rsvp_submit(
        party=party, guest=ben, status="going", plus_ones=1, plus_one_diets=["vegan"]
    )
    going(party, chloe)
    going(party, dev)
    going(party, eva)  # no needs at all
    waiting = person("Walt", allergies=["lupin"], dietary_notes="walt's secret note")
    services.rsvp_submit(party=party, guest=waiting, status="going")
    maybe = person("Mia", allergies=["mustard"], dietary_notes="mia's secret note")
    services.rsvp_submit(party=party, guest=maybe, status="maybe")
    declined = person("Dora", allergies=["molluscs"], dietary_notes="dora's secret note")
    services.rsvp_submit(party=party, guest=declined, status="declined")
    assert RSVP.objects.get(guest=waiting).status == "waitlisted"
    for course, name, allergens, suits in [
        ("starter", "Prawn cocktail", ["crustaceans", "eggs"], []),
        ("dessert", "Pecan pie", ["tree_nuts", "gluten", "eggs", "milk"], ["vegetarian"]),
        ("side", "Rice salad", [], ["vegan", "gluten_free"]),
    ]:
        services.dish_add(
            party=party,
            cook=host,
            course=course,
            name=name,
            allergens=allergens,
            suits=suits,
            allergens_complete=True,
        )
    return party


def test_the_summary_lists_who_each_dish_clashes_with(table, host_client):
    page = host_client.get(table.get_absolute_url())

    assert (
        "Clashes: Ben (contains crustaceans); Ben's plus-one (diets not stated); "
        "Dev (diets not stated)"
    ) in dish_line(page, "Prawn cocktail")
    assert (
        "Clashes: Ben's plus-one (not vegan); Chloé (contains tree nuts); Dev (not gluten-free)"
    ) in dish_line(page, "Pecan pie")
    assert "Clashes" not in dish_line(page, "Rice salad")
    # Nobody off the table: not the waitlist, nor the maybes, nor those who can't go.
    for name in ("Walt", "Mia", "Dora"):
        assert name not in dish_line(page, "Prawn cocktail")
        assert name not in dish_line(page, "Pecan pie")


def test_the_summary_says_whether_each_course_has_something_for_everyone(table, host_client):
    text = page_text(host_client.get(table.get_absolute_url()))

    assert "Does every course have something for everyone?" in text
    assert "Ben: Starter ✗, Main ✗, Side ✓, Dessert ✓" in text
    assert "Ben's plus-one: Starter ✗, Main ✗, Side ✓, Dessert ✗" in text
    assert "Chloé: Starter ✓, Main ✗, Side ✓, Dessert ✗" in text
    assert "Dev: Starter ✗, Main ✗, Side ✓, Dessert ✗" in text
    assert "Eva:" not in text  # no needs, nothing to check


def test_the_summary_lists_needs_of_going_and_waitlisted_guests_only(table, host_client):
    text = spaced_text(host_client.get(table.get_absolute_url()))

    assert "Diets and allergies at the table (going and waitlisted guests):" in text
    assert "Ben: allergic to crustaceans Ben's plus-one: Vegan" in text
    assert "Chloé: no nuts, please allergic to peanuts, tree nuts" in text
    assert "Dev: Gluten-free" in text
    assert "Walt: walt's secret note (waitlisted) allergic to lupin" in text
    for secret in ("Mia:", "mia's secret note", "mustard", "Dora:", "dora's secret", "mollusc"):
        assert secret not in text


def test_a_declined_guests_diet_data_appears_nowhere(table, host_client):
    dora = User.objects.get(first_name="Dora")
    services.dish_add(
        party=table,
        cook=table.host,
        course="main",
        name="Moules",
        allergens=["molluscs"],
        allergens_complete=True,
    )

    page = host_client.get(table.get_absolute_url())

    text = page_text(page)
    assert "dora's secret note" not in text
    assert "Dora" not in dish_line(page, "Moules")
    assert all(needs.who != dora.display_name for needs, _ in page.context["coverage"])
    assert all(rsvp.guest != dora for rsvp, *_ in page.context["summary"]["needs"])
    # The guest list still shows she can't come, without her needs.
    assert "Can't go 1 reply Dora" in text


def test_a_plain_guest_never_sees_anyones_diet_data(table):
    chloe = User.objects.get(first_name="Chloé")

    page = client_for(chloe).get(table.get_absolute_url())

    text = page_text(page)
    assert "summary" not in page.context
    assert "coverage" not in page.context
    assert "Dinner summary" not in text
    assert "Clashes" not in text
    assert "allergic to" not in text
    for secret in ("walt's secret note", "mia's secret note", "dora's secret note"):
        assert secret not in text
    # Her own warnings, though, she sees.
    assert dish_line(page, "Pecan pie").endswith(
        "Heads up: this may not suit you (contains tree nuts)."
    )


def test_the_head_count_counts_plus_ones_and_the_host(table, host_client):
    text = page_text(host_client.get(table.get_absolute_url()))

    assert "Head count: 6 (hosts included)" in text
