import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_database_refuses_a_username_that_differs_only_in_case():
    UserFactory(username="Ana")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="aNA", email="someone-else@example.com")

    assert User.objects.filter(username__iexact="ana").count() == 1


def test_database_refuses_an_email_that_differs_only_in_case():
    UserFactory(email="ana@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="someone-else", email="ANA@Example.COM")

    assert User.objects.filter(email__iexact="ana@example.com").count() == 1


def test_constraints_explain_themselves_when_validated():
    UserFactory(username="ana", email="ana@example.com")

    with pytest.raises(ValidationError) as excinfo:
        User(username="ANA", email="ANA@EXAMPLE.COM").validate_constraints()

    assert sorted(excinfo.value.messages) == [
        "An account with this email already exists.",
        "That username is taken.",
    ]


def test_timezone_defaults_to_the_site_time_zone(settings):
    settings.TIME_ZONE = "Europe/Lisbon"

    user = User.objects.create_user("ana", "ana@example.com", "not-used-in-this-test-42")

    user.refresh_from_db()
    assert user.timezone == "Europe/Lisbon"


def test_display_name_is_the_full_name_or_the_username():
    assert UserFactory(username="ana", first_name="Ana", last_name="Lima").display_name == (
        "Ana Lima"
    )
    assert UserFactory(username="bruno", first_name="", last_name="").display_name == "bruno"
