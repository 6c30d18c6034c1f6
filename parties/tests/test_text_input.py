"""Control characters are refused in every text a host or guest types (site and
admin): they are invisible, and the page cache's CSRF placeholder was made of them
(common/text.py)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.tests.factories import UserFactory
from parties.models import DinnerParty
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import admin_form_data, client_for, dish_data, flash_messages

pytestmark = pytest.mark.django_db

CONTROL = ["Chl\x1fZ", "Chl\x07Z", "Chl\x00Z", "Chl\x1fcsrf-token\x1fZ", "Chl\tZ", "Chl\x85Z"]


def party_data(**overrides) -> dict[str, str]:
    return {
        "title": "Cassoulet night",
        "starts_at": "2030-12-12T19:00",
        "timezone": "Europe/Paris",
        "venue": "Rue des Martyrs 8, Paris",
        "area": "",
        "main_dish": "Cassoulet",
        "seats": "6",
        "description": "",
        "visibility": "public",
    } | overrides


@pytest.mark.parametrize("field", ["title", "venue", "area", "main_dish"])
@pytest.mark.parametrize("value", CONTROL)
def test_a_party_s_one_line_text_with_a_control_character_is_a_form_error(
    host_client, field, value
):
    response = host_client.post(reverse("parties:create"), party_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not DinnerParty.objects.exists()


def test_a_description_keeps_its_line_breaks_and_tabs_but_no_other_control_character(
    host_client,
):
    refused = host_client.post(reverse("parties:create"), party_data(description="Bring\x1fwine"))
    assert refused.context["form"].errors["description"] == [
        "Remove the invisible control characters from this text (found: U+001F)."
    ]

    host_client.post(
        reverse("parties:create"), party_data(description="Bring:\r\n\t- wine\r\n\t- bread")
    )
    assert DinnerParty.objects.get().description == "Bring:\r\n\t- wine\r\n\t- bread"


def test_editing_a_title_to_hold_a_control_character_is_refused(party, host_client):
    response = host_client.post(
        reverse("parties:update", args=[party.pk]),
        party_data(title="Paella\x1fcsrf-token\x1fnight", starts_at="2030-12-12T19:00"),
    )

    assert response.context["form"].errors["title"]
    party.refresh_from_db()
    assert party.title == "Paella night"


def test_a_reply_note_with_a_control_character_is_refused(party, guest_client):
    response = guest_client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "going", "plus_ones": "0", "note": "I bring\x1fcsrf-token\x1fwine"},
    )

    assert response.status_code == 400
    assert "Please fix the errors below." in flash_messages(response)
    assert not party.rsvps.exists()


def test_a_dish_name_with_a_control_character_is_refused(party, host_client):
    response = host_client.post(
        reverse("parties:dish_add", args=[party.pk]), dish_data("dish", name="Tart\x07")
    )

    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not party.dishes.exists()


def test_a_message_to_guests_with_a_control_character_is_refused(party, host_client):
    response = host_client.post(
        reverse("parties:announce", args=[party.pk]),
        {"audience": "going", "text": "See you\x1fcsrf-token\x1fsoon"},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["text"]
    assert not party.announcements.exists()


@pytest.mark.parametrize("value", CONTROL)
def test_the_admin_refuses_a_control_character_in_a_party_title(value):
    staff_host = UserFactory(username="hostess", is_staff=True)
    staff_host.groups.add(Group.objects.get(name="Hosts"))
    party = DinnerPartyFactory(host=staff_host, title="My table")
    client = client_for(staff_host)
    url = reverse("admin:parties_dinnerparty_change", args=[party.pk])

    response = client.post(url, admin_form_data(client.get(url)) | {"title": value})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["title"]
    party.refresh_from_db()
    assert party.title == "My table"
