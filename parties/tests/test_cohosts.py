"""Co-hosts: the host adds them; they run the party with the host (edit it,
manage the menu, read the dinner summary, message guests) but cannot cancel it
or change who runs it. Everyone else finds none of those pages."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import Announcement, DinnerParty, Dish, PotluckSlot, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    add_dish,
    admin_form_data,
    claim,
    client_for,
    dish_data,
    flash_messages,
    going,
    open_potluck,
    page_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohost(party):
    user = UserFactory(username="chloe", first_name="Chloé", last_name="Martin")
    services.cohost_add(party=party, user=user)
    return user


@pytest.fixture
def cohost_client(cohost):
    return client_for(cohost)


def edit_data(party: DinnerParty, **overrides) -> dict[str, str]:
    return {
        "title": party.title,
        "starts_at": party.local_starts_at.strftime("%Y-%m-%dT%H:%M"),
        "timezone": party.timezone,
        "venue": party.venue,
        "area": party.area,
        "main_dish": party.main_dish,
        "seats": str(party.seats),
        "description": party.description,
        "visibility": party.visibility,
        "address_shown_to": "table" if party.hide_address else "everyone",
    } | overrides


def unchanged(party: DinnerParty) -> dict:
    return DinnerParty.objects.values().get(pk=party.pk)


# --- Adding and removing co-hosts --------------------------------------------------------


def test_the_host_adds_a_cohost_by_username(party, host_client):
    chloe = UserFactory(username="chloe", first_name="Chloé", last_name="Martin")

    response = host_client.post(
        reverse("parties:cohost_add", args=[party.pk]), {"username": " CHLOE "}
    )

    assert response.status_code == 302
    assert "Chloé Martin is now co-hosting “Paella night”." in flash_messages(response)
    assert list(party.cohosts.all()) == [chloe]
    text = page_text(host_client.get(party.get_absolute_url()))
    assert "Co-hosts Chloé Martin" in text


def test_the_host_adds_a_guest_who_replied(party, guest, host_client):
    going(party, guest)

    response = host_client.post(reverse("parties:cohost_add", args=[party.pk]), {"username": "ben"})

    assert response.status_code == 302
    assert list(party.cohosts.all()) == [guest]


@pytest.mark.parametrize("username", ["nobody", "", "x" * 10_000])
def test_an_unknown_username_is_a_field_error(party, host_client, username):
    response = host_client.post(
        reverse("parties:cohost_add", args=[party.pk]), {"username": username}
    )

    assert response.status_code == 400
    assert "Please fix the errors below." in flash_messages(response)
    assert response.context["form"].errors["username"]
    if username == "nobody":
        assert response.context["form"].errors["username"] == ["No member has that username."]
        assert 'value="nobody"' in response.content.decode()
    assert not party.cohosts.exists()


def test_the_host_cannot_be_their_own_cohost(party, host_client):
    response = host_client.post(reverse("parties:cohost_add", args=[party.pk]), {"username": "ana"})

    assert response.status_code == 400
    assert "The host is already running this party." in page_text(response)
    assert not party.cohosts.exists()


def test_the_host_removes_a_cohost(party, cohost, host_client, cohost_client):
    response = host_client.post(reverse("parties:cohost_remove", args=[party.pk, cohost.pk]))

    assert response.status_code == 302
    assert "Chloé Martin is no longer co-hosting." in flash_messages(response)
    assert not party.cohosts.exists()
    assert cohost_client.get(reverse("parties:update", args=[party.pk])).status_code == 404


def test_removing_someone_who_is_not_a_cohost_is_404(party, guest, host, host_client):
    for user in (guest, host):
        url = reverse("parties:cohost_remove", args=[party.pk, user.pk])
        assert host_client.post(url).status_code == 404


def dish_urls(party: DinnerParty, dish: Dish) -> list[tuple[str, str]]:
    return [
        ("get", reverse("parties:dish_edit", args=[party.pk, dish.pk])),
        ("post", reverse("parties:dish_edit", args=[party.pk, dish.pk])),
        ("post", reverse("parties:dish_remove", args=[party.pk, dish.pk])),
    ]


def test_a_removed_cohost_of_a_private_party_no_longer_changes_their_dishes(host):
    party = DinnerPartyFactory(host=host, visibility=Visibility.PRIVATE)
    chloe = UserFactory(username="chloe")
    services.cohost_add(party=party, user=chloe)
    dish = services.dish_add(party=party, cook=chloe, course="main", name="Paella negra")
    services.cohost_remove(party=party, user=chloe)
    client = client_for(chloe)
    before = list(Dish.objects.values())

    for method, url in dish_urls(party, dish):
        response = getattr(client, method)(url, dish_data(name="Renamed"))
        assert response.status_code == 404, (method, url)

    assert list(Dish.objects.values()) == before
    assert client.get(party.get_absolute_url()).status_code == 404  # as the party page


@pytest.mark.parametrize("still_sees_it", ["public party", "declined reply"])
def test_a_removed_cohost_who_still_sees_the_party_still_changes_their_dishes(host, still_sees_it):
    visibility = Visibility.PUBLIC if still_sees_it == "public party" else Visibility.PRIVATE
    party = DinnerPartyFactory(host=host, visibility=visibility)
    chloe = UserFactory(username="chloe")
    if still_sees_it == "declined reply":
        services.rsvp_submit(party=party, guest=chloe, status="declined")
    services.cohost_add(party=party, user=chloe)
    dish = services.dish_add(party=party, cook=chloe, course="main", name="Paella negra")
    services.cohost_remove(party=party, user=chloe)
    client = client_for(chloe)
    assert client.get(party.get_absolute_url()).status_code == 200

    edit, remove = dish_urls(party, dish)[1:]
    assert client.post(edit[1], dish_data(course="main", name="Paella roja")).status_code == 302
    assert Dish.objects.get().name == "Paella roja"
    assert client.post(remove[1]).status_code == 302
    assert not Dish.objects.exists()


# --- What a co-host may do ---------------------------------------------------------------


def test_a_cohost_sees_the_host_tools_but_no_delete_or_cohost_controls(
    party, cohost, cohost_client
):
    response = cohost_client.get(party.get_absolute_url())

    assert response.status_code == 200
    assert response.context["can_manage"]
    assert not response.context["is_host"]
    text = page_text(response)
    assert "Host tools" in text
    assert "Dinner summary" in text
    assert "Message your guests" in text
    markup = response.content.decode()
    assert reverse("parties:update", args=[party.pk]) in markup
    assert reverse("parties:delete", args=[party.pk]) not in markup
    assert reverse("parties:cohost_add", args=[party.pk]) not in markup
    assert reverse("parties:cohost_remove", args=[party.pk, cohost.pk]) not in markup


def test_a_cohost_edits_the_party(party, host, cohost_client):
    assert cohost_client.get(reverse("parties:update", args=[party.pk])).status_code == 200

    response = cohost_client.post(
        reverse("parties:update", args=[party.pk]),
        edit_data(party, title="Paella for more", seats="6", area="Gràcia, Barcelona"),
    )

    assert response.status_code == 302
    assert "“Paella for more” has been updated." in flash_messages(response)
    party.refresh_from_db()
    assert (party.title, party.seats, party.area) == ("Paella for more", 6, "Gràcia, Barcelona")
    assert party.host == host


def test_a_cohost_manages_the_menu(party, guest, cohost, cohost_client):
    response = add_dish(cohost_client, party, course="main", name="Paella negra")
    assert response.status_code == 302
    assert Dish.objects.get().added_by == cohost

    response = cohost_client.post(
        reverse("parties:potluck", args=[party.pk]),
        {"starter": 1, "main": 0, "side": 0, "dessert": 2, "drinks": 0},
    )
    assert response.status_code == 302
    assert PotluckSlot.objects.filter(party=party).count() == 3

    going(party, guest)
    assert claim(client_for(guest), party, name="Flan").status_code == 302
    for dish in Dish.objects.all():
        url = reverse("parties:dish_remove", args=[party.pk, dish.pk])
        assert cohost_client.post(url).status_code == 302
    assert not Dish.objects.exists()


def test_a_cohost_sees_the_dinner_summary(party, cohost_client):
    guest = UserFactory(first_name="Dev", last_name="", allergies=["peanuts"])
    going(party, guest)
    services.dish_add(
        party=party,
        cook=party.host,
        course="starter",
        name="Satay",
        allergens=["peanuts"],
        allergens_complete=True,
    )

    text = page_text(cohost_client.get(party.get_absolute_url()))

    assert "Dev: allergic to peanuts" in text
    assert "Clashes: Dev (contains peanuts)" in text
    assert "Dev: Starter ✗" in text


def test_a_cohost_messages_the_guests(committing, mailoutbox, party, guest, cohost, cohost_client):
    going(party, guest)

    with committing():
        response = cohost_client.post(
            reverse("parties:announce", args=[party.pk]),
            {"audience": "going", "text": "Bring a jumper, we're eating outside"},
        )

    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert announcement.author == cohost
    assert [message.to for message in mailoutbox] == [[guest.email]]
    assert mailoutbox[0].subject.startswith("A message from Chloé Martin about “Paella night” · ")
    assert "Bring a jumper, we're eating outside" in page_text(
        client_for(guest).get(party.get_absolute_url())
    )


def test_a_cohost_opens_a_private_party_they_never_replied_to(host, cohost):
    party = DinnerPartyFactory(host=host, visibility=Visibility.PRIVATE, title="Secret supper")
    services.cohost_add(party=party, user=cohost)
    client = client_for(cohost)

    page = client.get(party.get_absolute_url())
    assert page.status_code == 200
    assert "Host tools" in page_text(page)
    assert client.get(reverse("parties:calendar", args=[party.pk])).status_code == 200
    assert "Secret supper" in page_text(client.get(reverse("parties:list")))
    # Saving an edit lands on the party page, which they can open.
    response = client.post(
        reverse("parties:update", args=[party.pk]), edit_data(party, title="Secret supper II")
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


# --- What a co-host may not do ------------------------------------------------------------


def test_a_cohost_cannot_delete_the_party(committing, mailoutbox, party, guest, cohost_client):
    going(party, guest)
    before = unchanged(party)
    url = reverse("parties:delete", args=[party.pk])

    with committing():
        assert cohost_client.get(url).status_code == 404
        assert cohost_client.post(url).status_code == 404

    assert unchanged(party) == before
    assert party.rsvps.count() == 1
    assert mailoutbox == []  # nobody told it was cancelled


def test_a_cohost_cannot_remove_the_host_or_other_cohosts(party, host, cohost, cohost_client):
    other = UserFactory()
    services.cohost_add(party=party, user=other)

    for user in (host, other, cohost):
        url = reverse("parties:cohost_remove", args=[party.pk, user.pk])
        assert cohost_client.post(url).status_code == 404

    assert set(party.cohosts.all()) == {cohost, other}
    party.refresh_from_db()
    assert party.host == host


def test_a_cohost_cannot_add_cohosts(party, cohost, cohost_client):
    friend = UserFactory(username="friend")

    response = cohost_client.post(
        reverse("parties:cohost_add", args=[party.pk]), {"username": "friend"}
    )

    assert response.status_code == 404
    assert friend not in party.cohosts.all()


def test_a_cohost_cannot_make_themselves_host_through_the_edit_form(
    party, host, cohost, cohost_client
):
    cohost_client.post(
        reverse("parties:update", args=[party.pk]), edit_data(party) | {"host": cohost.pk}
    )

    party.refresh_from_db()
    assert party.host == host


# --- Everyone else: 404 -------------------------------------------------------------------


def managed_urls(party: DinnerParty, dish: Dish, someone) -> list[tuple[str, str]]:
    """Every page and action that only the hosts may use, as (method, url)."""
    return [
        ("get", reverse("parties:update", args=[party.pk])),
        ("post", reverse("parties:update", args=[party.pk])),
        ("get", reverse("parties:delete", args=[party.pk])),
        ("post", reverse("parties:delete", args=[party.pk])),
        ("post", reverse("parties:regenerate_invite", args=[party.pk])),
        ("post", reverse("parties:dish_add", args=[party.pk])),
        ("get", reverse("parties:dish_edit", args=[party.pk, dish.pk])),
        ("post", reverse("parties:dish_edit", args=[party.pk, dish.pk])),
        ("post", reverse("parties:dish_remove", args=[party.pk, dish.pk])),
        ("post", reverse("parties:potluck", args=[party.pk])),
        ("post", reverse("parties:cohost_add", args=[party.pk])),
        ("post", reverse("parties:cohost_remove", args=[party.pk, someone.pk])),
        ("post", reverse("parties:announce", args=[party.pk])),
    ]


@pytest.fixture
def busy_party(host, cohost):
    """A private potluck with a co-host, a dish, a claimed slot and a message."""
    party = DinnerPartyFactory(host=host, visibility=Visibility.PRIVATE, seats=4)
    services.cohost_add(party=party, user=cohost)
    open_potluck(party, dessert=2)
    guest = UserFactory()
    going(party, guest)
    services.slot_claim(party=party, guest=guest, course="dessert", name="Flan")
    services.announce(party=party, author=host, audience="going", text="Hello")
    return party


POSTED = {
    **dish_data("dish"),
    **dish_data("claim"),
    **dish_data(),
    "starter": 0,
    "main": 0,
    "side": 0,
    "dessert": 0,
    "drinks": 0,
    "username": "ana",
    "audience": "going",
    "text": "Spam",
    "title": "Hijacked",
    "seats": "500",
}


def snapshot() -> dict:
    return {
        "parties": list(DinnerParty.objects.values()),
        "dishes": list(Dish.objects.values()),
        "slots": list(PotluckSlot.objects.values()),
        "cohosts": list(DinnerParty.cohosts.through.objects.values()),
        "announcements": list(Announcement.objects.values()),
    }


def test_an_outsider_gets_404_for_every_host_url(busy_party, cohost):
    outsider = client_for(UserFactory())
    dish = Dish.objects.get()
    before = snapshot()

    for method, url in managed_urls(busy_party, dish, cohost):
        response = getattr(outsider, method)(url, POSTED if method == "post" else None)
        assert response.status_code == 404, (method, url)
    response = outsider.post(reverse("parties:slot_claim", args=[busy_party.pk]), POSTED)
    assert response.status_code == 404

    assert snapshot() == before


def test_a_guest_gets_404_for_every_host_url(busy_party, cohost):
    guest = busy_party.rsvps.get().guest
    client = client_for(guest)
    host_dish = services.dish_add(
        party=busy_party, cook=busy_party.host, course="main", name="Rice"
    )
    before = snapshot()

    for method, url in managed_urls(busy_party, host_dish, cohost):
        response = getattr(client, method)(url, POSTED if method == "post" else None)
        assert response.status_code == 404, (method, url)

    assert snapshot() == before


# --- The admin -------------------------------------------------------------------------------


@pytest.fixture
def staff_cohost(party):
    user = UserFactory(username="staffer", is_staff=True)
    user.groups.add(Group.objects.get(name="Hosts"))
    services.cohost_add(party=party, user=user)
    return user


def test_a_staff_cohost_sees_and_changes_the_party_in_the_admin(party, host, staff_cohost):
    someone_elses = DinnerPartyFactory(title="Not theirs")
    own = DinnerPartyFactory(host=staff_cohost, title="Their own")
    client = client_for(staff_cohost)

    changelist = client.get(reverse("admin:parties_dinnerparty_changelist"))
    assert set(changelist.context["cl"].result_list) == {party, own}
    assert someone_elses.title not in changelist.content.decode()

    change = reverse("admin:parties_dinnerparty_change", args=[party.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert "host" in page.context["adminform"].readonly_fields
    data = admin_form_data(page) | {"title": "Paella for the street", "host": staff_cohost.pk}

    response = client.post(change, data)

    assert response.status_code == 302
    party.refresh_from_db()
    assert party.title == "Paella for the street"
    assert party.host == host


def test_a_staff_cohost_cannot_delete_the_party_in_the_admin(party, staff_cohost):
    client = client_for(staff_cohost)
    delete = reverse("admin:parties_dinnerparty_delete", args=[party.pk])

    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:parties_dinnerparty_changelist"),
        {"action": "delete_selected", "_selected_action": [party.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    assert DinnerParty.objects.filter(pk=party.pk).exists()
    change_page = client.get(reverse("admin:parties_dinnerparty_change", args=[party.pk]))
    assert delete not in change_page.content.decode()


def test_a_staff_host_still_deletes_their_own_party_in_the_admin(party, host):
    host.is_staff = True
    host.save()
    host.groups.add(Group.objects.get(name="Hosts"))

    response = client_for(host).post(
        reverse("admin:parties_dinnerparty_delete", args=[party.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not DinnerParty.objects.filter(pk=party.pk).exists()
