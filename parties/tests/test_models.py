from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from accounts.tests.factories import UserFactory
from parties.models import RSVP, DinnerParty, Dish, Visibility
from parties.tests.factories import DinnerPartyFactory, RSVPFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seats", [0, 501])
def test_database_refuses_seats_outside_1_to_500(seats):
    with pytest.raises(IntegrityError), transaction.atomic():
        DinnerPartyFactory(seats=seats)
    assert not DinnerParty.objects.exists()


@pytest.mark.parametrize("seats", [1, 500])
def test_database_accepts_seats_at_the_limits(seats):
    assert DinnerPartyFactory(seats=seats).pk


def test_database_refuses_more_seats_taken_than_seats():
    party = DinnerPartyFactory(seats=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        DinnerParty.objects.filter(pk=party.pk).update(seats_taken=3)
    party.refresh_from_db()
    assert party.seats_taken == 0


def test_database_refuses_seats_below_those_taken():
    party = DinnerPartyFactory(seats=4)
    DinnerParty.objects.filter(pk=party.pk).update(seats_taken=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        DinnerParty.objects.filter(pk=party.pk).update(seats=3)


def test_database_refuses_six_plus_ones():
    with pytest.raises(IntegrityError), transaction.atomic():
        RSVPFactory(plus_ones=6)
    assert not RSVP.objects.exists()


def test_database_accepts_five_plus_ones():
    assert RSVPFactory(plus_ones=5).pk


def test_database_refuses_a_second_reply_from_the_same_guest():
    rsvp = RSVPFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RSVPFactory(party=rsvp.party, guest=rsvp.guest)
    assert RSVP.objects.count() == 1


def test_the_same_guest_may_reply_to_two_parties():
    rsvp = RSVPFactory()
    RSVPFactory(guest=rsvp.guest)
    assert RSVP.objects.filter(guest=rsvp.guest).count() == 2


def test_upcoming_leaves_out_parties_that_have_started():
    now = timezone.now()
    soon = DinnerPartyFactory(starts_at=now + timedelta(minutes=5))
    later = DinnerPartyFactory(starts_at=now + timedelta(days=30))
    DinnerPartyFactory(starts_at=now - timedelta(minutes=5))
    DinnerPartyFactory(starts_at=now - timedelta(days=30))

    assert list(DinnerParty.objects.upcoming()) == [soon, later]


@pytest.fixture
def parties(db):
    """One party of each kind, seen from `viewer`'s side."""
    viewer = UserFactory(username="viewer")
    stranger = UserFactory(username="stranger")
    parties = {
        "public": DinnerPartyFactory(host=stranger, visibility=Visibility.PUBLIC),
        "own_private": DinnerPartyFactory(host=viewer, visibility=Visibility.PRIVATE),
        "private_with_rsvp": DinnerPartyFactory(host=stranger, visibility=Visibility.PRIVATE),
        "private_with_token": DinnerPartyFactory(host=stranger, visibility=Visibility.PRIVATE),
        "others_private": DinnerPartyFactory(host=stranger, visibility=Visibility.PRIVATE),
    }
    # Even a declined reply keeps the party reachable for the guest.
    RSVPFactory(party=parties["private_with_rsvp"], guest=viewer, status="declined")
    return viewer, parties


def test_visible_to_public_own_and_private_with_a_reply(parties):
    viewer, p = parties
    visible = set(DinnerParty.objects.visible_to(viewer))
    assert visible == {p["public"], p["own_private"], p["private_with_rsvp"]}


def test_visible_to_with_invite_token_adds_only_that_private_party(parties):
    viewer, p = parties
    token = p["private_with_token"].invite_token
    visible = set(DinnerParty.objects.visible_to(viewer, invite_token=token))
    assert p["private_with_token"] in visible
    assert p["others_private"] not in visible


def test_visible_to_hides_others_private_parties_whatever_the_token(parties):
    viewer, p = parties
    for token in ("", "not-a-token", p["public"].invite_token):
        assert p["others_private"] not in DinnerParty.objects.visible_to(viewer, invite_token=token)


def test_visible_to_superuser_sees_every_party(parties):
    _viewer, p = parties
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert set(DinnerParty.objects.visible_to(admin)) == set(p.values())


def test_visible_to_counts_each_party_once(parties):
    viewer, p = parties
    RSVPFactory(party=p["public"], guest=viewer)
    RSVPFactory(party=p["public"])
    assert DinnerParty.objects.visible_to(viewer).filter(pk=p["public"].pk).count() == 1


@pytest.mark.parametrize(
    ("zone", "utc_start", "expected"),
    [
        ("Europe/Paris", datetime(2026, 12, 12, 18, 0, tzinfo=UTC), "Sat 12 Dec, 19:00 CET"),
        ("Europe/Paris", datetime(2026, 7, 11, 17, 30, tzinfo=UTC), "Sat 11 Jul, 19:30 CEST"),
        ("America/New_York", datetime(2026, 12, 13, 0, 0, tzinfo=UTC), "Sat 12 Dec, 19:00 EST"),
        ("UTC", datetime(2026, 12, 12, 19, 0, tzinfo=UTC), "Sat 12 Dec, 19:00 UTC"),
    ],
)
def test_when_is_shown_in_the_partys_zone_with_its_abbreviation(zone, utc_start, expected):
    party = DinnerPartyFactory.build(timezone=zone, starts_at=utc_start)
    assert party.when == expected


def test_when_ignores_the_active_time_zone():
    party = DinnerPartyFactory.build(
        timezone="Europe/Paris", starts_at=datetime(2026, 12, 12, 18, 0, tzinfo=UTC)
    )
    with timezone.override("Asia/Tokyo"):
        assert party.when == "Sat 12 Dec, 19:00 CET"


def test_when_follows_a_change_of_time_zone_or_language():
    party = DinnerPartyFactory.build(
        timezone="Europe/Paris", starts_at=datetime(2026, 12, 12, 18, 0, tzinfo=UTC)
    )
    assert party.when == "Sat 12 Dec, 19:00 CET"

    party.starts_at = datetime(2026, 12, 12, 19, 0, tzinfo=UTC)
    assert party.when == "Sat 12 Dec, 20:00 CET"
    party.timezone = "UTC"
    assert party.when == "Sat 12 Dec, 19:00 UTC"
    with translation.override("de"):
        assert party.when == "Sa 12. Dez, 19:00 UTC"


def test_new_parties_get_distinct_long_invite_tokens():
    first, second = DinnerPartyFactory(), DinnerPartyFactory()
    assert first.invite_token != second.invite_token
    assert len(first.invite_token) >= 22  # token_urlsafe(16) or longer


def test_seats_left_and_is_full():
    party = DinnerPartyFactory.build(seats=3, seats_taken=2)
    assert (party.seats_left, party.is_full) == (1, False)
    party.seats_taken = 3
    assert (party.seats_left, party.is_full) == (0, True)


def test_the_models_run_the_validators(host):
    party = DinnerPartyFactory(host=host)
    dish = Dish(party=party, added_by=host, course="main", name="Stew", allergens=["nuts"])
    dish.suits = "vegan"

    with pytest.raises(ValidationError) as caught:
        dish.full_clean()

    assert set(caught.value.message_dict) == {"allergens", "suits"}
    assert caught.value.message_dict["allergens"] == ["Unknown allergens: nuts."]

    host.diets, host.allergies = ["carnivore"], [7]
    with pytest.raises(ValidationError) as caught:
        host.full_clean()
    assert {"diets", "allergies"} <= set(caught.value.message_dict)
