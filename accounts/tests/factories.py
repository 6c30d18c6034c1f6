import factory
from factory.django import DjangoModelFactory

from accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(DjangoModelFactory):
    """A user who can log in with DEFAULT_PASSWORD (or the `password` given)."""

    username = factory.Sequence(lambda n: f"guest{n}")
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Hashed with the hashers in force when the user is built (MD5 in tests).
    password = factory.django.Password(DEFAULT_PASSWORD)

    class Meta:
        model = User
