import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(DjangoModelFactory):
    """A user who can log in with DEFAULT_PASSWORD (or the `password` given), with
    a confirmed email address (`unconfirmed=True`: one who has not opened the link)."""

    username = factory.Sequence(lambda n: f"guest{n}")
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # Hashed with the hashers in force when the user is built (MD5 in tests).
    password = factory.django.Password(DEFAULT_PASSWORD)
    email_confirmed_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = User

    class Params:
        unconfirmed = factory.Trait(email_confirmed_at=None)
