"""The password rules of ASVS 6.1.2, 6.2.4 and 6.2.11: words easy to guess here and
common passwords long enough for our 15 characters are refused, at sign-up and at
every other place a password is chosen."""

import gzip

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import common_passwords
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import page_text, register_data

pytestmark = pytest.mark.django_db


def register(client, password: str, **overrides):
    data = register_data(password1=password, password2=password, **overrides)
    return client.post(reverse("register"), data)


def password_errors(response) -> list[str]:
    """The sign-up form shows password rules under *Password* (issue 21 item 11)."""
    return list(response.context["form"].errors.get("password1", []))


# --- Context-specific words (6.1.2, 6.2.11) --------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("dinnerparty2026!!", id="site-name"),
        pytest.param("DinnerParty-2026-x", id="site-name-any-case"),
        pytest.param("dinner-party-demo-2026", id="dinner-and-party"),
        pytest.param("potluck-potluck-17", id="potluck"),
    ],
)
def test_passwords_built_on_the_sites_own_words_are_refused(client, password):
    response = register(client, password)

    assert response.status_code == 200
    errors = " ".join(password_errors(response))
    assert "easy to guess here" in errors
    assert "They don't count towards its 15 characters" in page_text(response)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "password"),
    [
        pytest.param("username", "marguerite", "marguerite!2026-07", id="username"),
        pytest.param(
            "email", "zephyrine.k@example.com", "zephyrine.k-1987!", id="email-local-part"
        ),
    ],
)
def test_passwords_built_on_the_accounts_own_names_are_refused(client, field, value, password):
    response = register(client, password, **{field: value})

    assert response.status_code == 200
    assert "easy to guess here" in " ".join(password_errors(response))
    assert not User.objects.exists()


def test_a_first_name_in_a_new_password_does_not_count_towards_its_length():
    user = UserFactory(first_name="Bartholomew", last_name="Quist")

    with pytest.raises(ValidationError) as refused:
        validate_password("bartholomew-quist-1", user=user)

    assert "“bartholomew”" in str(refused.value)
    assert "“quist”" in str(refused.value)


def test_a_long_sentence_that_mentions_a_dinner_is_accepted(client):
    password = "we ate a slow dinner by the harbour in june"

    response = register(client, password)

    assert response.status_code == 302
    assert User.objects.get(username="bruno").check_password(password)


def test_the_password_change_form_refuses_context_words_too(client):
    user = UserFactory(username="clementine")
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "clementine-party-9",
            "new_password2": "clementine-party-9",
        },
    )

    assert response.status_code == 200
    assert "easy to guess here" in page_text(response)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


# --- Common passwords long enough for the policy (6.2.4) -------------------------------


def test_the_common_password_list_has_over_3000_passwords_the_policy_would_accept():
    with gzip.open(common_passwords.COMMON_PASSWORDS_PATH, "rt", encoding="utf-8") as lines:
        passwords = [line.strip() for line in lines]

    assert common_passwords.long_enough(passwords) >= 3000
    # Django's own list is in it too.
    assert {"password", "iloveyou", "manchesterunited"} <= set(passwords)


def test_the_shipped_list_is_the_one_the_builder_makes():
    with gzip.open(common_passwords.COMMON_PASSWORDS_PATH, "rt", encoding="utf-8") as lines:
        shipped = [line.strip() for line in lines if line.strip()]

    assert shipped == common_passwords.build()


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("passwordpassword", id="doubled"),
        pytest.param("iloveyou123456789", id="padded-with-digits"),
        pytest.param("Sunshine1234567890", id="padded-any-case"),
        pytest.param("123456789012345", id="digit-run"),
        pytest.param("qwertyuiopasdfgh", id="keyboard-walk"),
        pytest.param("iloveyoupassword", id="two-joined"),
        pytest.param("monkeymonkey2024", id="doubled-with-a-year"),
    ],
)
def test_common_passwords_stretched_to_15_characters_are_refused(client, password):
    assert len(password) >= 15

    response = register(client, password)

    assert response.status_code == 200
    assert "This password is too common." in password_errors(response)
    assert not User.objects.exists()


def test_the_settings_use_the_long_common_password_list():
    options = [
        validator.get("OPTIONS", {})
        for validator in settings.AUTH_PASSWORD_VALIDATORS
        if validator["NAME"].endswith("CommonPasswordValidator")
    ]

    assert options == [{"password_list_path": common_passwords.COMMON_PASSWORDS_PATH}]
