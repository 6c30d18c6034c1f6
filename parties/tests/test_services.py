from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP, DinnerParty, Dish, Notice
from parties.services import RsvpError, SeatsBelowTaken
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    admin_form_data,
    assert_seats_consistent,
    client_for,
    going,
)

pytestmark = pytest.mark.django_db

GOING, MAYBE, DECLINED, WAITLISTED = "going", "maybe", "declined", "waitlisted"


def reply(party, guest, status, plus_ones=0, note=""):
    return services.rsvp_submit(
        party=party, guest=guest, status=status, plus_ones=plus_ones, note=note
    )


def seats_taken(party) -> int:
    party.refresh_from_db()
    return party.seats_taken


def status_of(rsvp) -> str:
    rsvp.refresh_from_db()
    return rsvp.status


def full_party(seats=2):
    """A party whose `seats` are all taken by single guests."""
    party = DinnerPartyFactory(seats=seats)
    for _ in range(seats):
        going(party, UserFactory())
    return party


# --- replies ----------------------------------------------------------------


def test_going_takes_one_seat_plus_one_per_plus_one(party, guest):
    outcome = reply(party, guest, GOING, plus_ones=2, note="I'll bring wine")

    assert outcome.status == GOING
    assert outcome.waitlist_position is None
    assert (outcome.rsvp.plus_ones, outcome.rsvp.note) == (2, "I'll bring wine")
    assert seats_taken(party) == 3
    assert_seats_consistent()


@pytest.mark.parametrize("status", [MAYBE, DECLINED])
def test_maybe_and_declined_hold_no_seat(party, guest, status):
    outcome = reply(party, guest, status, plus_ones=1)

    assert outcome.status == status
    assert seats_taken(party) == 0
    assert_seats_consistent()


def test_going_that_does_not_fit_is_waitlisted_in_arrival_order():
    party = full_party(seats=2)
    first, second = UserFactory(), UserFactory()

    one = reply(party, first, GOING)
    two = reply(party, second, GOING)

    assert (one.status, one.waitlist_position) == (WAITLISTED, 1)
    assert (two.status, two.waitlist_position) == (WAITLISTED, 2)
    assert seats_taken(party) == 2
    assert_seats_consistent()


def test_a_group_that_does_not_fit_is_waitlisted_while_seats_remain(party, guest):
    going(party, UserFactory(), plus_ones=1)

    outcome = reply(party, guest, GOING, plus_ones=2)

    assert outcome.status == WAITLISTED
    assert seats_taken(party) == 2
    assert_seats_consistent()


def test_a_waitlisted_guest_who_replies_going_again_keeps_their_place():
    party = full_party(seats=1)
    first, second = UserFactory(), UserFactory()
    reply(party, first, GOING)
    reply(party, second, GOING)

    again = reply(party, first, GOING, note="still keen")

    assert (again.status, again.waitlist_position) == (WAITLISTED, 1)
    assert_seats_consistent()


def test_a_waitlisted_guest_who_says_maybe_leaves_the_waitlist():
    party = full_party(seats=1)
    first, second = UserFactory(), UserFactory()
    reply(party, first, GOING)
    reply(party, second, GOING)

    reply(party, first, MAYBE)

    assert RSVP.objects.get(guest=second).status == WAITLISTED
    assert services.waitlist_position(RSVP.objects.get(guest=second)) == 1
    assert_seats_consistent()


@pytest.mark.parametrize("status", [WAITLISTED, "bogus", ""])
def test_only_going_maybe_or_declined_can_be_asked_for(party, guest, status):
    with pytest.raises(RsvpError):
        reply(party, guest, status)
    assert not RSVP.objects.exists()


def test_the_host_cannot_reply_to_their_own_party(party, host):
    with pytest.raises(RsvpError, match="host"):
        reply(party, host, GOING)
    assert not RSVP.objects.exists()
    assert seats_taken(party) == 0


def test_nobody_replies_to_a_party_that_has_started(guest):
    party = DinnerPartyFactory(starts_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(RsvpError, match="started"):
        reply(party, guest, GOING)
    assert not RSVP.objects.exists()


def test_a_going_guest_who_asks_for_too_many_plus_ones_keeps_their_seat(party, guest):
    going(party, guest, plus_ones=1)
    going(party, UserFactory())  # 3 of 4 seats taken: one more is free

    with pytest.raises(RsvpError, match="at most 2 plus-ones"):
        reply(party, guest, GOING, plus_ones=3)

    rsvp = RSVP.objects.get(guest=guest)
    assert (rsvp.status, rsvp.plus_ones) == (GOING, 1)
    assert seats_taken(party) == 3
    assert_seats_consistent()


def test_a_going_guest_may_raise_plus_ones_into_free_seats(party, guest):
    going(party, guest)
    outcome = reply(party, guest, GOING, plus_ones=3)
    assert (outcome.status, seats_taken(party)) == (GOING, 4)
    assert_seats_consistent()


def test_changing_a_reply_updates_it_in_place(party, guest):
    reply(party, guest, GOING, note="wine")
    reply(party, guest, MAYBE, note="maybe cheese")

    rsvp = RSVP.objects.get()
    assert (rsvp.status, rsvp.note) == (MAYBE, "maybe cheese")
    assert seats_taken(party) == 0
    assert_seats_consistent()


# --- the waitlist moves up ------------------------------------------------------


def test_declining_promotes_the_waitlist_in_arrival_order():
    party = DinnerPartyFactory(seats=2)
    seated = UserFactory()
    going(party, seated)
    going(party, UserFactory())
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for user in (first, second, third):
        reply(party, user, GOING)

    outcome = reply(party, seated, DECLINED)

    assert [r.guest for r in outcome.promoted] == [first]
    assert RSVP.objects.get(guest=first).status == GOING
    assert services.waitlist_position(RSVP.objects.get(guest=second)) == 1
    assert services.waitlist_position(RSVP.objects.get(guest=third)) == 2
    assert seats_taken(party) == 2
    assert_seats_consistent()


def waitlist_reads(queries) -> int:
    """The reads of a party's waitlist in arrival order (`promote_waitlist`)."""
    return sum('ORDER BY "parties_rsvp"."waitlisted_at"' in q["sql"] for q in queries)


def test_declining_reads_the_waitlist_only_when_someone_is_on_it():
    party = DinnerPartyFactory(seats=4)
    seated, leaving = UserFactory(), UserFactory()
    going(party, seated)
    going(party, leaving)

    with CaptureQueriesContext(connection) as nobody_waits:
        outcome = reply(party, leaving, DECLINED)

    assert outcome.promoted == []
    assert waitlist_reads(nobody_waits) == 0
    going(party, leaving, plus_ones=2)  # the table is full again
    waiting = UserFactory()
    reply(party, waiting, GOING)
    assert status_of(RSVP.objects.get(guest=waiting)) == WAITLISTED

    with CaptureQueriesContext(connection) as someone_waits:
        outcome = reply(party, seated, DECLINED)

    assert [r.guest for r in outcome.promoted] == [waiting]
    assert waitlist_reads(someone_waits) == 1
    assert_seats_consistent()


def test_a_single_guest_passes_a_group_of_four_that_does_not_fit():
    party = DinnerPartyFactory(seats=4)
    leaving = UserFactory()
    going(party, leaving, plus_ones=2)
    going(party, UserFactory())
    group, single, another = UserFactory(), UserFactory(), UserFactory()
    reply(party, group, GOING, plus_ones=3)  # needs 4 seats
    reply(party, single, GOING)
    reply(party, another, GOING)

    outcome = reply(party, leaving, DECLINED)  # frees 3 seats

    assert {r.guest for r in outcome.promoted} == {single, another}
    group_rsvp = RSVP.objects.get(guest=group)
    assert group_rsvp.status == WAITLISTED
    assert services.waitlist_position(group_rsvp) == 1
    assert seats_taken(party) == 3
    assert_seats_consistent()


def test_lowering_plus_ones_promotes_the_waitlist(party, guest):
    going(party, guest, plus_ones=3)
    waiting = UserFactory()
    reply(party, waiting, GOING)

    outcome = reply(party, guest, GOING, plus_ones=2)

    assert [r.guest for r in outcome.promoted] == [waiting]
    assert seats_taken(party) == 4
    assert_seats_consistent()


def test_going_to_maybe_promotes_the_waitlist():
    party = full_party(seats=1)
    seated = RSVP.objects.get(party=party).guest
    waiting = UserFactory()
    reply(party, waiting, GOING)

    reply(party, seated, MAYBE)

    assert RSVP.objects.get(guest=waiting).status == GOING
    assert_seats_consistent()


def test_promotion_leaves_a_notice_for_the_promoted_guest_only():
    party = full_party(seats=1)
    seated = RSVP.objects.get(party=party).guest
    promoted, still_waiting = UserFactory(), UserFactory()
    reply(party, promoted, GOING)
    reply(party, still_waiting, GOING, plus_ones=1)

    reply(party, seated, DECLINED)

    notice = Notice.objects.get()
    assert notice.user == promoted
    assert "moved from the waitlist to the table" in notice.text
    assert party.title in notice.text
    assert_seats_consistent()


# --- the host edits the party ------------------------------------------------------


def test_adding_seats_promotes_the_waitlist():
    party = full_party(seats=2)
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    for user in (first, second, third):
        reply(party, user, GOING)

    promoted = services.party_update(party=party, changes={"seats": 4})

    assert [r.guest for r in promoted] == [first, second]
    assert party.seats_taken == 4  # the caller's instance is refreshed
    assert RSVP.objects.get(guest=third).status == WAITLISTED
    assert Notice.objects.filter(user__in=[first, second]).count() == 2
    assert_seats_consistent()


def test_seats_cannot_drop_below_those_taken(party, guest):
    going(party, guest, plus_ones=2)

    with pytest.raises(SeatsBelowTaken) as error:
        services.party_update(party=party, changes={"seats": 2, "title": "Smaller"})

    assert error.value.seats_taken == 3
    party.refresh_from_db()
    assert (party.seats, party.title) == (4, "Paella night")
    assert_seats_consistent()


def test_seats_may_drop_to_exactly_those_taken(party, guest):
    going(party, guest, plus_ones=2)
    services.party_update(party=party, changes={"seats": 3})
    party.refresh_from_db()
    assert (party.seats, party.is_full) == (3, True)
    assert_seats_consistent()


def test_party_update_saves_other_changes(party):
    services.party_update(party=party, changes={"title": "Paella night II", "venue": "Roof"})
    party.refresh_from_db()
    assert (party.title, party.venue) == ("Paella night II", "Roof")


def test_regenerate_invite_replaces_the_token(party):
    old = party.invite_token
    new = services.regenerate_invite(party=party)
    party.refresh_from_db()
    assert party.invite_token == new != old
    assert not DinnerParty.objects.filter(invite_token=old).exists()


# --- deleting replies and accounts ------------------------------------------------------


def test_rsvp_delete_frees_seats_and_promotes():
    party = full_party(seats=2)
    waiting = UserFactory()
    reply(party, waiting, GOING)
    doomed = RSVP.objects.filter(party=party, status=GOING).first()

    promoted = services.rsvp_delete(rsvps=[doomed])

    assert [r.guest for r in promoted] == [waiting]
    assert not RSVP.objects.filter(pk=doomed.pk).exists()
    assert seats_taken(party) == 2
    assert_seats_consistent()


def test_rsvp_delete_across_parties():
    first, second = full_party(seats=1), full_party(seats=2)
    doomed = list(RSVP.objects.filter(status=GOING))

    services.rsvp_delete(rsvps=doomed)

    assert (seats_taken(first), seats_taken(second)) == (0, 0)
    assert_seats_consistent()


def test_rsvp_delete_gives_back_every_deleted_guests_potluck_claims_in_one_statement():
    party = DinnerPartyFactory(seats=4)
    services.potluck_set_slots(party=party, wanted={"main": 3})
    guests = [UserFactory() for _ in range(3)]
    for guest in guests:
        reply(party, guest, GOING)
        services.slot_claim(party=party, guest=guest, course="main", name=f"{guest.username}'s")
    doomed = list(RSVP.objects.filter(party=party, guest__in=guests[:2]))

    with CaptureQueriesContext(connection) as queries:
        services.rsvp_delete(rsvps=doomed)

    assert list(Dish.objects.filter(party=party).values_list("added_by", flat=True)) == [
        guests[2].pk
    ]
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "parties_dish"')]
    assert len(deletes) == 1


def test_deleting_a_waitlisted_reply_frees_nothing():
    party = full_party(seats=1)
    waiting = reply(party, UserFactory(), GOING).rsvp
    assert services.rsvp_delete(rsvps=[waiting]) == []
    assert seats_taken(party) == 1
    assert_seats_consistent()


def test_user_delete_frees_their_seats_everywhere_and_promotes():
    leaving = UserFactory()
    first, second = DinnerPartyFactory(seats=2), DinnerPartyFactory(seats=3)
    going(first, leaving, plus_ones=1)
    going(second, leaving)
    going(second, UserFactory(), plus_ones=1)
    waiting = UserFactory()
    reply(first, waiting, GOING)
    hosted = DinnerPartyFactory(host=leaving)

    services.user_delete(user=leaving)

    assert not User.objects.filter(pk=leaving.pk).exists()
    assert not DinnerParty.objects.filter(pk=hosted.pk).exists()
    assert RSVP.objects.get(guest=waiting).status == GOING
    assert (seats_taken(first), seats_taken(second)) == (1, 2)
    assert Notice.objects.filter(user=waiting).exists()
    assert_seats_consistent()


# --- the admin takes the same paths ----------------------------------------------------


@pytest.fixture
def admin_client_(db):
    return client_for(UserFactory(is_staff=True, is_superuser=True))


def test_admin_user_delete_frees_seats_and_promotes(admin_client_):
    party = DinnerPartyFactory(seats=2)
    leaving = UserFactory()
    going(party, leaving, plus_ones=1)
    waiting = UserFactory()
    reply(party, waiting, GOING)

    url = reverse("admin:accounts_user_delete", args=[leaving.pk])
    response = admin_client_.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=leaving.pk).exists()
    assert RSVP.objects.get(guest=waiting).status == GOING
    assert seats_taken(party) == 1
    assert_seats_consistent()


def test_admin_bulk_user_delete_frees_seats(admin_client_):
    party = DinnerPartyFactory(seats=3)
    leaving = [UserFactory(), UserFactory()]
    for user in leaving:
        going(party, user)
    stays = UserFactory()
    going(party, stays)

    response = admin_client_.post(
        reverse("admin:accounts_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [user.pk for user in leaving],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[user.pk for user in leaving]).exists()
    assert seats_taken(party) == 1
    assert_seats_consistent()


def test_admin_rsvp_delete_frees_seats_and_promotes(admin_client_):
    party = full_party(seats=1)
    doomed = RSVP.objects.get(party=party)
    waiting = UserFactory()
    reply(party, waiting, GOING)

    url = reverse("admin:parties_rsvp_delete", args=[doomed.pk])
    response = admin_client_.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not RSVP.objects.filter(pk=doomed.pk).exists()
    assert RSVP.objects.get(guest=waiting).status == GOING
    assert_seats_consistent()


def test_admin_bulk_rsvp_delete_frees_seats_and_promotes(admin_client_):
    party = full_party(seats=2)
    doomed = list(RSVP.objects.filter(party=party))
    waiting = [UserFactory(), UserFactory(), UserFactory()]
    for user in waiting:
        reply(party, user, GOING)

    response = admin_client_.post(
        reverse("admin:parties_rsvp_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in doomed], "post": "yes"},
    )

    assert response.status_code == 302
    statuses = [RSVP.objects.get(guest=user).status for user in waiting]
    assert statuses == [GOING, GOING, WAITLISTED]
    assert_seats_consistent()


def test_admin_inline_delete_frees_seats_and_promotes(admin_client_):
    party = full_party(seats=1)
    doomed = RSVP.objects.get(party=party)
    waiting = UserFactory()
    reply(party, waiting, GOING)
    url = reverse("admin:parties_dinnerparty_change", args=[party.pk])
    data = admin_form_data(admin_client_.get(url))
    index = next(i for i in range(2) if data[f"rsvps-{i}-id"] == doomed.pk)

    response = admin_client_.post(url, data | {f"rsvps-{index}-DELETE": "on"})

    assert response.status_code == 302
    assert not RSVP.objects.filter(pk=doomed.pk).exists()
    assert RSVP.objects.get(guest=waiting).status == GOING
    assert_seats_consistent()


# --- a party's page changes: its version moves on ----------------------------------


def version_of(party) -> int:
    return DinnerParty.objects.values_list("version", flat=True).get(pk=party.pk)


def test_party_changed_moves_on_a_party_or_every_party_of_a_queryset(party):
    other, untouched = DinnerPartyFactory(), DinnerPartyFactory()
    before = {p.pk: version_of(p) for p in (party, other, untouched)}

    services.party_changed(party)
    services.party_changed(DinnerParty.objects.filter(pk__in=[party.pk, other.pk]))

    assert version_of(party) == before[party.pk] + 2
    assert version_of(other) == before[other.pk] + 1
    assert version_of(untouched) == before[untouched.pk]


def rename(user):
    user.first_name = "Renamed"
    user.save()


# Each change a party's page shows that is made without the party's lock, to a
# party with a dish, a co-host and a guest.
CHANGES_WITHOUT_THE_LOCK = {
    "a dish added": lambda party, dish: services.dish_add(
        party=party, cook=party.host, course="dessert", name="Flan"
    ),
    "a dish changed": lambda party, dish: services.dish_update(dish=dish, name="Fideuà"),
    "a dish removed": lambda party, dish: services.dish_remove(dish=dish),
    "a co-host added": lambda party, dish: services.cohost_add(party=party, user=UserFactory()),
    "a co-host removed": lambda party, dish: services.cohost_remove(
        party=party, user=party.cohosts.get()
    ),
    "a guest renamed": lambda party, dish: rename(RSVP.objects.get(party=party).guest),
    "the host renamed": lambda party, dish: rename(party.host),
    "a co-host renamed": lambda party, dish: rename(party.cohosts.get()),
    "a co-host's account deleted": lambda party, dish: services.user_delete(
        user=party.cohosts.get()
    ),
}


@pytest.mark.parametrize("change", CHANGES_WITHOUT_THE_LOCK, ids=list(CHANGES_WITHOUT_THE_LOCK))
def test_every_change_to_a_party_s_page_without_its_lock_moves_its_version_on(party, change):
    dish = services.dish_add(party=party, cook=party.host, course="main", name="Paella")
    services.cohost_add(party=party, user=UserFactory())
    going(party, UserFactory())
    unrelated = DinnerPartyFactory()
    before, unrelated_before = version_of(party), version_of(unrelated)

    CHANGES_WITHOUT_THE_LOCK[change](party, dish)

    assert version_of(party) > before
    assert version_of(unrelated) == unrelated_before
