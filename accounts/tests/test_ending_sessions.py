"""Sessions end at once when an account is deactivated or deleted (ASVS 7.4.2),
and administrators can end a user's sessions from the admin (7.4.5)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Session, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from parties.tests.helpers import admin_form_data, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def chloe(db):
    return UserFactory(username="chloe", email="chloe@example.com")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def logged_in_twice(user) -> tuple[Client, Client]:
    clients = (Client(), Client())
    for client in clients:
        client.force_login(user)
    return clients


def logged_in(client: Client) -> bool:
    return client.get(reverse("profile")).status_code == 200


def session_keys(clients) -> list[str]:
    return [client.session.session_key for client in clients]


def assert_gone_everywhere(keys: list[str]) -> None:
    """No row, and nothing to load by those keys."""
    store_class = Session.get_session_store_class()
    assert not Session.objects.filter(session_key__in=keys).exists()
    for key in keys:
        assert store_class(session_key=key).load() == {}


# --- Deactivated or deleted: every session ends at once (7.4.2) --------------------------


def test_unticking_active_in_the_admin_ends_all_the_accounts_sessions_at_once(chloe, superuser):
    phones = logged_in_twice(chloe)
    keys = session_keys(phones)
    admin = client_for(superuser)
    url = reverse("admin:accounts_user_change", args=[chloe.pk])
    data = admin_form_data(admin.get(url))
    data.pop("is_active")

    response = admin.post(url, data, follow=True)

    assert response.status_code == 200
    assert "Logged out 1 account everywhere (2 sessions ended)." in response.content.decode()
    assert_gone_everywhere(keys)
    # Ticked again, the account's old sessions do not come back.
    User.objects.filter(pk=chloe.pk).update(is_active=True)
    assert not any(logged_in(phone) for phone in phones)


def test_saving_an_active_account_in_the_admin_leaves_its_sessions(chloe, superuser):
    phone, _ = logged_in_twice(chloe)
    admin = client_for(superuser)
    url = reverse("admin:accounts_user_change", args=[chloe.pk])

    admin.post(url, admin_form_data(admin.get(url)) | {"first_name": "Chloé"})

    assert logged_in(phone)


def test_deleting_ones_own_account_ends_its_other_sessions(chloe):
    laptop, phone = logged_in_twice(chloe)
    keys = session_keys((laptop, phone))

    response = laptop.post(reverse("account_delete"), {"password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert_gone_everywhere(keys)
    assert not logged_in(phone)


def test_deleting_an_account_in_the_admin_ends_its_sessions(chloe, superuser):
    keys = session_keys(logged_in_twice(chloe))
    admin = client_for(superuser)

    admin.post(reverse("admin:accounts_user_delete", args=[chloe.pk]), {"post": "yes"})

    assert not User.objects.filter(pk=chloe.pk).exists()
    assert_gone_everywhere(keys)


# --- Administrators end a user's sessions (7.4.5) ----------------------------------------


def test_the_admin_action_logs_the_chosen_users_out_everywhere(chloe, superuser):
    bruno = UserFactory(username="bruno")
    chloe_phones, bruno_phones = logged_in_twice(chloe), logged_in_twice(bruno)
    stays = UserFactory(username="stays")
    stays_phone, _ = logged_in_twice(stays)
    admin = client_for(superuser)

    response = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "end_all_sessions", "_selected_action": [chloe.pk, bruno.pk]},
        follow=True,
    )

    assert "Logged out 2 accounts everywhere (4 sessions ended)." in response.content.decode()
    assert_gone_everywhere(session_keys(chloe_phones) + session_keys(bruno_phones))
    assert logged_in(stays_phone)


def test_an_admin_ending_their_own_sessions_keeps_the_one_in_use(superuser):
    elsewhere = Client()
    elsewhere.force_login(superuser)
    admin = client_for(superuser)

    admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "end_all_sessions", "_selected_action": [superuser.pk]},
    )

    assert admin.get(reverse("admin:index")).status_code == 200
    assert not logged_in(elsewhere)


def test_the_users_page_shows_its_devices_and_a_log_out_everywhere_button(chloe, superuser):
    logged_in_twice(chloe)
    admin = client_for(superuser)

    page = admin.get(reverse("admin:accounts_user_change", args=[chloe.pk])).content.decode()

    assert "2 devices" in page
    assert reverse("admin:accounts_user_end_sessions", args=[chloe.pk]) in page
    assert "Log out everywhere" in page


def test_the_button_logs_the_user_out_everywhere(chloe, superuser):
    phones = logged_in_twice(chloe)
    admin = client_for(superuser)

    response = admin.post(reverse("admin:accounts_user_end_sessions", args=[chloe.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_user_change", args=[chloe.pk])
    assert_gone_everywhere(session_keys(phones))


def test_the_button_takes_only_a_post_with_a_csrf_token(chloe, superuser):
    phone, _ = logged_in_twice(chloe)
    url = reverse("admin:accounts_user_end_sessions", args=[chloe.pk])
    admin = client_for(superuser)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = admin.cookies

    assert admin.get(url).status_code == 405
    assert strict.post(url).status_code == 403
    assert logged_in(phone)


@pytest.mark.parametrize("object_id", ["999999", "not-a-number", "1%00"])
def test_the_button_for_a_missing_user_is_not_found(superuser, object_id):
    admin = client_for(superuser)

    response = admin.post(f"/admin/accounts/user/{object_id}/end-sessions/")

    assert response.status_code == 404


def test_hosts_staff_cannot_end_anyones_sessions(chloe):
    phone, _ = logged_in_twice(chloe)
    host = UserFactory(username="hana", is_staff=True)
    host.groups.add(Group.objects.get(name="Hosts"))
    admin = client_for(host)

    button = admin.post(reverse("admin:accounts_user_end_sessions", args=[chloe.pk]))
    action = admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "end_all_sessions", "_selected_action": [chloe.pk]},
    )

    assert button.status_code == 403
    assert action.status_code == 403
    assert logged_in(phone)


def test_staff_who_manage_users_cannot_end_a_superusers_sessions(superuser):
    phone = Client()
    phone.force_login(superuser)
    manager = UserFactory(username="manager", is_staff=True)
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    admin = client_for(manager)

    button = admin.post(reverse("admin:accounts_user_end_sessions", args=[superuser.pk]))
    admin.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "end_all_sessions", "_selected_action": [superuser.pk]},
    )

    assert button.status_code == 404
    assert logged_in(phone)
