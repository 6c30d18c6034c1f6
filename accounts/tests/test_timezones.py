"""A member's time zone: taken from the browser at sign-up, picked from the
canonical zones on the profile and in the admin (common/timezones.py)."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import page_text, register_data
from parties.tests.helpers import client_for

pytestmark = pytest.mark.django_db


def sign_up(client, **overrides):
    return client.post(reverse("register"), register_data(**overrides))


def test_the_sign_up_page_has_a_hidden_field_the_browser_script_fills(client):
    response = client.get(reverse("register"))

    markup = response.content.decode()
    assert re.search(r'<input type="hidden" name="timezone"[^>]*data-browser-timezone', markup)
    assert 'src="/static/js/timezone.js"' in markup
    assert "<script>" not in markup  # nothing inline: the CSP allows none


@pytest.mark.parametrize(
    ("posted", "zone"),
    [
        ("Asia/Tokyo", "Asia/Tokyo"),
        ("America/Sao_Paulo", "America/Sao_Paulo"),
        ("Asia/Calcutta", "Asia/Kolkata"),  # what some browsers still report
    ],
)
def test_a_new_member_gets_the_zone_their_browser_reports(client, posted, zone):
    response = sign_up(client, timezone=posted)

    assert response.status_code == 302
    assert User.objects.get(username="bruno").timezone == zone


@pytest.mark.parametrize(
    "posted",
    ["", "Mars/Olympus_Mons", "x" * 10_000, "<script>alert(1)</script>", "Europe/Paris\x00"],
)
def test_a_zone_we_do_not_know_signs_up_in_the_default_zone(client, settings, posted):
    settings.TIME_ZONE = "Europe/Berlin"

    response = sign_up(client, timezone=posted)

    assert response.status_code == 302
    assert User.objects.get(username="bruno").timezone == "Europe/Berlin"


def test_signing_up_without_the_script_uses_the_default_zone(client, settings):
    settings.TIME_ZONE = "UTC"
    data = register_data()

    response = client.post(reverse("register"), data)

    assert response.status_code == 302
    assert User.objects.get(username="bruno").timezone == "UTC"


def test_the_profile_picker_groups_canonical_zones_by_region_with_offsets(client):
    client.force_login(UserFactory(timezone="Europe/Paris"))

    markup = client.get(reverse("profile")).content.decode()

    select = re.search(r'<select name="timezone".*?</select>', markup, re.S).group(0)
    assert '<optgroup label="Europe">' in select
    assert '<optgroup label="America">' in select
    assert re.search(
        r'<option value="Europe/Paris" selected>Paris \(UTC\+0[12]:00\)</option>', select
    )
    for alias in ("Africa/Asmera", "Africa/Timbuktu", "Asia/Calcutta", "US/Eastern"):
        assert f'value="{alias}"' not in select


def test_a_zone_stored_under_an_old_alias_shows_as_the_zone_it_stands_for(client):
    user = UserFactory(timezone="UTC")
    User.objects.filter(pk=user.pk).update(timezone="Asia/Calcutta")  # as stored long ago
    client.force_login(user)

    markup = client.get(reverse("profile")).content.decode()

    assert re.search(r'<option value="Asia/Kolkata" selected>', markup)


@pytest.mark.parametrize("posted", ["Africa/Asmera", "Mars/Olympus_Mons", "", "x" * 10_000])
def test_the_profile_refuses_a_zone_that_is_not_offered(client, posted):
    user = UserFactory(timezone="UTC", email="ana@example.com")
    client.force_login(user)
    data = {"first_name": "", "last_name": "", "email": user.email, "timezone": posted}
    if posted == "Africa/Asmera":  # an alias is understood as the zone it stands for
        response = client.post(reverse("profile"), data)
        assert response.status_code == 302
        assert User.objects.get(pk=user.pk).timezone == "Africa/Nairobi"
        return

    response = client.post(reverse("profile"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["timezone"]
    assert User.objects.get(pk=user.pk).timezone == "UTC"


def test_the_admins_zone_field_is_the_same_picker_not_free_text():
    target = UserFactory(username="chloe", timezone="Europe/Lisbon")
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = admin.get(reverse("admin:accounts_user_change", args=[target.pk]))

    markup = response.content.decode()
    assert '<select name="timezone"' in markup
    assert '<option value="Europe/Lisbon" selected>' in markup
    assert 'name="timezone" type="text"' not in markup


def test_the_admin_refuses_a_zone_that_is_not_offered():
    target = UserFactory(username="chloe", timezone="Europe/Lisbon")
    admin = client_for(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_user_change", args=[target.pk])
    data = {
        "username": "chloe",
        "email": target.email,
        "first_name": "",
        "last_name": "",
        "dietary_notes": "",
        "timezone": "Mars/Olympus_Mons",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "12:00:00",
    }

    response = admin.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["timezone"]
    assert "Select a valid choice" in page_text(response)
    assert User.objects.get(pk=target.pk).timezone == "Europe/Lisbon"
