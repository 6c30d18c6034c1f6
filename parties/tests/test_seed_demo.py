import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from parties.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from parties.models import RSVP, Announcement, DinnerParty, Dish, Notice, PotluckSlot, RSVPStatus
from parties.tests.helpers import assert_seats_consistent

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "parties": DinnerParty.objects.count(),
        "rsvps": RSVP.objects.count(),
        "going": RSVP.objects.filter(status=RSVPStatus.GOING).count(),
        "waitlisted": RSVP.objects.filter(status=RSVPStatus.WAITLISTED).count(),
        "notices": Notice.objects.count(),
    }


def test_seed_demo_is_idempotent():
    first_output = seed()
    first = counts()
    seed()

    assert counts() == first
    assert first["users"] == len(DEMO_USERS)
    assert first["parties"] >= 3
    assert "Password for each: " + DEMO_PASSWORD in first_output
    assert_seats_consistent()


def test_seed_demo_has_a_full_party_with_a_waitlist():
    seed()

    full = [party for party in DinnerParty.objects.upcoming() if party.is_full]
    assert full
    assert RSVP.objects.filter(party__in=full, status=RSVPStatus.WAITLISTED).exists()
    assert DinnerParty.objects.upcoming().filter(visibility="private").exists()
    assert DinnerParty.objects.upcoming().filter(visibility="public").count() >= 2


def test_seed_demo_users_log_in_with_the_printed_password():
    seed()
    for username, *_rest in DEMO_USERS:
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    ana = User.objects.get(username="ana")
    assert ana.is_staff
    assert not ana.is_superuser
    assert ana.groups.filter(name="Hosts").exists()
    assert Group.objects.get(name="Hosts").user_set.count() == 1


def test_seed_demo_ana_sets_up_two_step_verification_on_her_first_admin_visit(client):
    output = seed()
    client.post(reverse("login"), {"username": "ana", "password": DEMO_PASSWORD})

    response = client.get(reverse("admin:index"), follow=True)

    assert not TOTPDevice.objects.filter(user__username="ana").exists()
    assert response.request["PATH_INFO"] == reverse("two_factor_setup")
    assert "two-step verification on her first visit" in output


def test_seed_demo_large_set_has_consistent_seat_counts():
    seed("--parties", "50", "--rsvps-per-party", "10", "--users", "20")

    generated = DinnerParty.objects.filter(title__startswith="Generated dinner")
    assert generated.count() == 50
    assert User.objects.filter(username__startswith="guest-").count() == 20
    assert RSVP.objects.filter(party__in=generated).count() == 500
    assert all(party.seats_taken == 10 <= party.seats for party in generated)
    assert not RSVP.objects.filter(guest_id=F("party__host_id")).exists()  # no host replies
    assert generated.filter(visibility="private").count() == 10
    assert_seats_consistent()

    before = counts()
    seed("--parties", "50", "--rsvps-per-party", "10", "--users", "20")
    assert counts() == before


def test_seed_demo_has_a_potluck_with_a_hidden_address_cohost_dishes_and_a_message():
    seed()

    party = DinnerParty.objects.get(title="Potluck under the stars")
    assert party.potluck
    assert party.hide_address
    assert party.area == "Kreuzberg, Berlin"
    assert party.venue
    assert party.venue != party.area
    assert [user.username for user in party.cohosts.all()] == ["felix"]
    claimed = Dish.objects.filter(party=party, slot__isnull=False).select_related("added_by")
    assert {(dish.added_by.username, dish.course) for dish in claimed} == {
        ("ben", "starter"),
        ("chloe", "dessert"),
        ("dev", "side"),
    }
    assert all(dish.added_by_id != party.host_id for dish in claimed)
    assert PotluckSlot.objects.filter(party=party, dish__isnull=True).exists()  # more wanted
    (announcement,) = Announcement.objects.filter(party=party)
    assert announcement.author.username == "felix"
    assert "jumper" in announcement.text
    # The waitlisted guest sees the area, the guests at the table the address.
    waiting = RSVP.objects.get(party=party, status=RSVPStatus.WAITLISTED).guest
    assert party.venue_for(user=waiting, status=RSVPStatus.WAITLISTED) == "Kreuzberg, Berlin"
    # Three guests with different allergies are at the table: the summary has clashes.
    going = User.objects.filter(rsvps__party=party, rsvps__status=RSVPStatus.GOING)
    assert len({tuple(user.allergies) for user in going if user.allergies}) >= 3
    assert_seats_consistent()


def test_seed_demo_potluck_page_shows_the_host_who_cannot_eat_what(client):
    seed()
    party = DinnerParty.objects.get(title="Potluck under the stars")
    client.force_login(party.host)

    text = client.get(party.get_absolute_url()).content.decode()

    assert "Clashes:" in text
    assert "Prawn cocktail" in text
    assert "Pecan pie" in text
    assert party.venue in text


def test_generated_replies_are_the_rows_the_orm_would_save():
    seed("--parties", "3", "--rsvps-per-party", "2", "--users", "5")
    generated = RSVP.objects.filter(party__title__startswith="Generated dinner")
    party = DinnerParty.objects.get(title="Sunday roast")  # a demo party, not generated
    guest = User.objects.get(username="guest-0")
    saved = RSVP.objects.create(party=party, guest=guest, status=RSVPStatus.GOING)
    fields = [
        f.attname
        for f in RSVP._meta.concrete_fields
        if f.attname not in {"id", "party_id", "guest_id", "created_at", "updated_at"}
    ]
    expected = {name: getattr(saved, name) for name in fields}

    assert generated.count() == 6
    for reply in generated:
        assert {name: getattr(reply, name) for name in fields} == expected
        assert reply.guest_id != reply.party.host_id
        assert reply.created_at is not None
        assert abs(reply.created_at - saved.created_at).total_seconds() < 60
        assert reply.updated_at >= reply.created_at


def test_the_generated_set_leaves_the_connection_s_commits_waiting_for_the_disk_again():
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    seed("--parties", "3", "--rsvps-per-party", "2", "--users", "5")

    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
