"""What each accounts form accepts and refuses, seen through the pages that show it."""

import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import page_text, register_data

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEN_THOUSAND = "x" * 10_000
NEW_PASSWORD = "a-brand-new-table-for-eight-7"


def register(client, **overrides):
    return client.post(reverse("register"), register_data(**overrides))


def field_errors(response, field: str) -> list[str]:
    return [error.replace("\u2019", "'") for error in response.context["form"].errors[field]]


# --- Registration -------------------------------------------------------------------


def test_mismatched_passwords_are_refused(client):
    response = register(client, password2="a-different-long-password-99")

    assert response.status_code == 200
    assert "The two password fields didn't match." in page_text(response)
    assert not User.objects.exists()


def test_a_short_password_and_a_mismatch_are_reported_together_each_under_its_field(client):
    response = register(client, password1="short", password2="shorter")

    assert response.status_code == 200
    assert field_errors(response, "password1") == [
        "This password is too short. It must contain at least 15 characters."
    ]
    assert field_errors(response, "password2") == ["The two password fields didn't match."]
    assert not User.objects.exists()


def test_every_sign_up_error_shows_at_once_under_its_own_field(client):
    UserFactory(username="bruno", email="bruno@example.com")

    response = register(client, password1="bruno", password2="other")

    text = page_text(response)
    form = response.context["form"]
    assert set(form.errors) == {"username", "email", "password1", "password2"}
    assert not form.non_field_errors()
    # Each message sits in its field's own feedback element, below that field's box
    # and above the next field's.
    fields = ("username", "email", "password1", "password2")
    for field, next_field in zip(fields, (*fields[1:], None), strict=True):
        box, error = text.index(f'id="id_{field}"'), text.index(f'id="error_1_id_{field}"')
        assert box < error
        if next_field:
            assert error < text.index(f'id="id_{next_field}"')
    assert User.objects.count() == 1


def test_email_taken_in_another_letter_case_is_refused(client):
    UserFactory(email="bruno@example.com")

    response = register(client, email="BRUNO@Example.com")

    assert response.status_code == 200
    assert "An account with this email already exists." in page_text(response)
    assert User.objects.count() == 1


def test_username_taken_in_another_letter_case_is_refused(client):
    UserFactory(username="bruno")

    response = register(client, username="BRUNO")

    assert response.status_code == 200
    assert "A user with that username already exists." in page_text(response)
    assert User.objects.count() == 1


def test_invalid_email_is_refused(client):
    response = register(client, email="bruno-at-example.com")

    assert response.status_code == 200
    assert "Enter a valid email address." in page_text(response)
    assert not User.objects.exists()


def test_every_field_is_required(client):
    response = client.post(
        reverse("register"), {"username": "", "email": "", "password1": "", "password2": ""}
    )

    assert response.status_code == 200
    for field in ("username", "email", "password1", "password2"):
        assert field_errors(response, field) == ["This field is required."]
    assert "Please fix the errors below." in page_text(response)
    assert not User.objects.exists()


# --- Password policy (NIST SP 800-63B: length, not composition) -----------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        pytest.param(
            "fourteen-chars",
            "This password is too short. It must contain at least 15 characters.",
            id="14-chars",
        ),
        pytest.param("manchesterunited", "This password is too common.", id="common"),
        pytest.param("qwerty123456789", "This password is too common.", id="common-digits"),
        pytest.param(
            "brunodelacroix1",
            "The password is too similar to the username.",
            id="like-username",
        ),
    ],
)
def test_weak_passwords_are_refused(client, password, message):
    response = register(
        client,
        username="brunodelacroix",
        email="b.d@example.com",
        password1=password,
        password2=password,
    )

    assert response.status_code == 200
    assert message in field_errors(response, "password1")
    assert "password2" not in response.context["form"].errors
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("qzvhtrkwpmbxlsd", id="15-lowercase"),
        pytest.param("804937261583920", id="15-digits"),
        pytest.param("Ünïcødé → 🍝 dinner at eight", id="unicode"),
    ],
)
def test_long_enough_passwords_need_no_special_characters(client, password):
    response = register(client, password1=password, password2=password)

    assert response.status_code == 302
    assert User.objects.get(username="bruno").check_password(password)


def test_a_128_character_password_is_kept_in_full(client):
    password = "".join(f"{i % 10}{chr(97 + i % 26)}" for i in range(64))
    assert len(password) == 128

    assert register(client, password1=password, password2=password).status_code == 302
    client.logout()
    cut_short = client.post(reverse("login"), {"username": "bruno", "password": password[:127]})
    in_full = client.post(reverse("login"), {"username": "bruno", "password": password})

    assert cut_short.status_code == 200
    assert in_full.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="bruno").pk)


def test_a_multi_kilobyte_password_is_refused(client):
    response = register(client, password1=TEN_THOUSAND, password2=TEN_THOUSAND)

    assert response.status_code == 200
    assert "This password is too long: at most 1024 characters." in field_errors(
        response, "password1"
    )
    assert not User.objects.exists()


# --- 10,000 characters in every field: a form error, never a 500 -----------------------


@pytest.mark.parametrize("field", ["username", "email", "password1", "password2"])
def test_register_refuses_ten_thousand_characters(client, field):
    response = register(client, **{field: TEN_THOUSAND})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert "Please fix the errors below." in page_text(response)
    assert not User.objects.exists()


@pytest.mark.parametrize("field", ["username", "password"])
def test_login_refuses_ten_thousand_characters(client, user, field):
    data = {"username": "ana", "password": DEFAULT_PASSWORD, field: TEN_THOUSAND}

    response = client.post(reverse("login"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "field",
    ["first_name", "last_name", "email", "dietary_notes", "timezone", "current_password"],
)
def test_profile_refuses_ten_thousand_characters(user_client, user, field):
    data = {
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana@example.com",
        "dietary_notes": "",
        "timezone": "UTC",
        "current_password": "",
        field: TEN_THOUSAND,
    }

    response = user_client.post(reverse("profile"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    saved = User.objects.get(pk=user.pk)
    assert (saved.first_name, saved.last_name, saved.email, saved.dietary_notes) == (
        "Ana",
        "Lima",
        "ana@example.com",
        "",
    )


@pytest.mark.parametrize("field", ["old_password", "new_password1", "new_password2"])
def test_password_change_refuses_ten_thousand_characters(user_client, user, field):
    data = {
        "old_password": DEFAULT_PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        field: TEN_THOUSAND,
    }

    response = user_client.post(reverse("password_change"), data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)


def test_password_reset_refuses_ten_thousand_characters(client, user, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": TEN_THOUSAND})

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert mailoutbox == []


@pytest.mark.parametrize("field", ["new_password1", "new_password2"])
def test_password_reset_confirm_refuses_ten_thousand_characters(client, user, mailoutbox, field):
    client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body)[1]
    form_url = client.get(link)["Location"]
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, field: TEN_THOUSAND}

    response = client.post(form_url, data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)


# --- Hostile input is shown as text, never run ------------------------------------------


def test_hostile_username_is_escaped_on_the_register_page(client):
    response = register(client, username=HOSTILE, email=HOSTILE)

    assert response.status_code == 200
    assert HOSTILE_ESCAPED in response.content.decode()
    assert HOSTILE not in response.content.decode()
    assert not User.objects.exists()


def test_hostile_login_name_is_escaped_on_the_login_page(client):
    response = client.post(reverse("login"), {"username": HOSTILE, "password": "whatever"})

    assert response.status_code == 200
    assert HOSTILE_ESCAPED in response.content.decode()
    assert HOSTILE not in response.content.decode()


def test_hostile_profile_text_is_saved_as_is_and_shown_escaped(client, user):
    client.force_login(user)
    client.post(
        reverse("profile"),
        {
            "first_name": HOSTILE,
            "last_name": "Lima",
            "email": "ana@example.com",
            "dietary_notes": HOSTILE,
            "timezone": "UTC",
        },
    )
    assert User.objects.get(pk=user.pk).dietary_notes == HOSTILE

    profile = client.get(reverse("profile"))
    client.logout()
    welcome = client.post(
        reverse("login"), {"username": "ana", "password": DEFAULT_PASSWORD}, follow=True
    )

    for response in (profile, welcome):
        assert HOSTILE not in response.content.decode()
    assert profile.content.decode().count(HOSTILE_ESCAPED) == 2
    assert f"Welcome back, {HOSTILE_ESCAPED} Lima!" in welcome.content.decode()
