"""Control characters are refused in the names and notes people type about
themselves, on the profile and in the admin (common/text.py)."""

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from parties.tests.helpers import client_for

pytestmark = pytest.mark.django_db

CONTROL = ["Chl\x1fZ", "Chl\x07Z", "Chl\x00Z", "Chl\x1fcsrf-token\x1fZ", "Chl\tZ", "Chl\x7fZ"]


def profile_data(**overrides) -> dict[str, str]:
    return {
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana@example.com",
        "dietary_notes": "",
        "timezone": "UTC",
        "current_password": "",
    } | overrides


@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("value", CONTROL)
def test_a_name_with_a_control_character_is_a_form_error(user_client, user, field, value):
    response = user_client.post(reverse("profile"), profile_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ana", "Lima")


def test_dietary_notes_keep_line_breaks_and_tabs_but_no_other_control_character(user_client, user):
    refused = user_client.post(reverse("profile"), profile_data(dietary_notes="no\x1fnuts"))
    assert refused.context["form"].errors["dietary_notes"]

    user_client.post(reverse("profile"), profile_data(dietary_notes="no nuts\r\n\tno fish"))
    user.refresh_from_db()
    assert user.dietary_notes == "no nuts\r\n\tno fish"


def test_an_email_with_a_control_character_in_a_quoted_part_is_refused(user_client, user):
    # Django's EmailValidator takes '"a\x1fb"@example.com'.
    response = user_client.post(
        reverse("profile"),
        profile_data(email='"ana\x1fcsrf-token\x1f"@example.com', current_password="x"),
    )

    assert response.context["form"].errors["email"]


@pytest.mark.parametrize("value", CONTROL)
def test_the_admin_refuses_a_control_character_in_a_user_s_name(value):
    target = UserFactory(username="chloe", first_name="Chloé")
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[target.pk])
    data = {
        "username": "chloe",
        "email": target.email,
        "first_name": value,
        "last_name": "",
        "dietary_notes": "",
        "timezone": target.timezone,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "12:00:00",
    }

    response = admin.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["first_name"]
    assert User.objects.get(pk=target.pk).first_name == "Chloé"
