from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import UserFactory
from parties.models import RSVP, DinnerParty, RSVPStatus, Visibility


class DinnerPartyFactory(DjangoModelFactory):
    """A public party a week from now, in Paris, with eight guest seats."""

    host = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Dinner party {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    timezone = "Europe/Paris"
    venue = factory.Faker("street_address")
    main_dish = factory.Faker(
        "random_element", elements=["Lasagne", "Cassoulet", "Paella", "Tagine", "Risotto"]
    )
    seats = 8
    visibility = Visibility.PUBLIC

    class Meta:
        model = DinnerParty


class RSVPFactory(DjangoModelFactory):
    """A reply written straight to the table, bypassing the seat rules.

    Its default status, "maybe", holds no seat. Replies that must hold seats
    ("going", "waitlisted") go through `parties.services.rsvp_submit`, which
    keeps `seats_taken` and the waitlist order right.
    """

    party = factory.SubFactory(DinnerPartyFactory)
    guest = factory.SubFactory(UserFactory)
    status = RSVPStatus.MAYBE
    plus_ones = 0
    note = ""

    class Meta:
        model = RSVP
