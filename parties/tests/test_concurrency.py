"""Seat races with real commits: threads, each with its own database connection,
released together by a barrier. A control shows the same harness catches a naive
check-then-insert, so a pass here means the locking works, not that the race was missed."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from parties import queries, services
from parties.models import RSVP, DinnerParty, Dish, PendingReply, PotluckSlot, RSVPStatus
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import assert_seats_consistent

pytestmark = pytest.mark.slow

SEATS = 5
THREADS = 20


def run_at_once(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Call work(0) … work(count - 1) in `count` threads released together.
    Returns the results (in index order) and any exceptions raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            connection.ensure_connection()  # connect first, so the calls start together
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported to the test, whatever it is
            errors.append(error)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results, errors


def seats_held(party: DinnerParty) -> int:
    """Seats the going replies hold, counted from the replies themselves."""
    going = RSVP.objects.filter(party=party, status=RSVPStatus.GOING)
    return going.count() + (going.aggregate(extra=Sum("plus_ones"))["extra"] or 0)


def waitlist(party: DinnerParty) -> list[RSVP]:
    return list(
        RSVP.objects.filter(party=party, status=RSVPStatus.WAITLISTED).order_by(
            "waitlisted_at", "pk"
        )
    )


def test_twenty_guests_reply_going_at_once_to_five_seats(transactional_db):
    party = DinnerPartyFactory(seats=SEATS)
    guests = [UserFactory() for _ in range(THREADS)]

    outcomes, errors = run_at_once(
        THREADS,
        lambda i: services.rsvp_submit(party=party, guest=guests[i], status=RSVPStatus.GOING),
    )

    assert errors == []
    party.refresh_from_db()
    assert seats_held(party) <= party.seats  # the harness's overbooking check
    assert RSVP.objects.filter(party=party, status=RSVPStatus.GOING).count() == SEATS
    assert RSVP.objects.filter(party=party, status=RSVPStatus.WAITLISTED).count() == 15
    assert party.seats_taken == SEATS
    assert sorted(o.status for o in outcomes) == ["going"] * SEATS + ["waitlisted"] * 15
    told = sorted(o.waitlist_position for o in outcomes if o.status == RSVPStatus.WAITLISTED)
    assert told == list(range(1, 16))
    assert [services.waitlist_position(r) for r in waitlist(party)] == list(range(1, 16))
    assert_seats_consistent()

    # Two going guests decline at the same instant: the first two in line move up.
    first_two = [r.guest_id for r in waitlist(party)[:2]]
    leaving = list(
        RSVP.objects.filter(party=party, status=RSVPStatus.GOING).values_list(
            "guest_id", flat=True
        )[:2]
    )
    by_id = {guest.pk: guest for guest in guests}
    _outcomes, errors = run_at_once(
        2,
        lambda i: services.rsvp_submit(
            party=party, guest=by_id[leaving[i]], status=RSVPStatus.DECLINED
        ),
    )

    assert errors == []
    promoted = RSVP.objects.filter(party=party, guest_id__in=first_two)
    assert {r.status for r in promoted} == {RSVPStatus.GOING}
    party.refresh_from_db()
    assert party.seats_taken == SEATS
    assert [services.waitlist_position(r) for r in waitlist(party)] == list(range(1, 14))
    assert_seats_consistent()


def test_declines_and_new_replies_at_once_keep_the_count(transactional_db):
    party = DinnerPartyFactory(seats=SEATS)
    seated = [UserFactory() for _ in range(SEATS)]
    for guest in seated:
        services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)
    for _ in range(5):
        services.rsvp_submit(party=party, guest=UserFactory(), status=RSVPStatus.GOING)
    newcomers = [UserFactory() for _ in range(10)]

    def work(i: int):
        if i < SEATS:
            return services.rsvp_submit(party=party, guest=seated[i], status=RSVPStatus.DECLINED)
        return services.rsvp_submit(
            party=party, guest=newcomers[i - SEATS], status=RSVPStatus.GOING, plus_ones=i % 2
        )

    _outcomes, errors = run_at_once(15, work)

    assert errors == []
    party.refresh_from_db()
    assert seats_held(party) <= party.seats
    assert party.seats_taken == seats_held(party)
    assert party.seats_taken >= SEATS - 1  # only a pair that doesn't fit may leave a gap
    positions = [services.waitlist_position(r) for r in waitlist(party)]
    assert positions == list(range(1, len(positions) + 1))
    assert_seats_consistent()


def naive_rsvp_going(party: DinnerParty, guest) -> str:
    """CONTROL: check, then insert, with no lock. The read and the write are
    separate transactions (autocommit), so the race is open on SQLite and PostgreSQL."""
    taken = RSVP.objects.filter(party=party, status=RSVPStatus.GOING).count()
    time.sleep(0.05)  # the time a real request spends between the check and the write
    if taken < party.seats:
        RSVP.objects.create(party=party, guest=guest, status=RSVPStatus.GOING)
        return RSVPStatus.GOING
    RSVP.objects.create(
        party=party, guest=guest, status=RSVPStatus.WAITLISTED, waitlisted_at=timezone.now()
    )
    return RSVPStatus.WAITLISTED


def test_control_the_harness_catches_a_naive_check_then_insert(transactional_db):
    party = DinnerPartyFactory(seats=SEATS)
    guests = [UserFactory() for _ in range(THREADS)]

    _results, errors = run_at_once(THREADS, lambda i: naive_rsvp_going(party, guests[i]))

    assert errors == []
    # The same check that passes for rsvp_submit fails here: the table is overbooked.
    assert seats_held(party) > party.seats
    assert RSVP.objects.filter(party=party, status=RSVPStatus.GOING).count() > SEATS


def test_two_guests_claim_the_last_dessert_slot_at_once(transactional_db):
    party = DinnerPartyFactory(seats=SEATS)
    services.potluck_set_slots(party=party, wanted={"dessert": 2})
    first = UserFactory()
    services.rsvp_submit(party=party, guest=first, status=RSVPStatus.GOING)
    services.slot_claim(party=party, guest=first, course="dessert", name="Brownies")
    rivals = [UserFactory(), UserFactory()]
    for guest in rivals:
        services.rsvp_submit(party=party, guest=guest, status=RSVPStatus.GOING)

    dishes, errors = run_at_once(
        2,
        lambda i: services.slot_claim(
            party=party, guest=rivals[i], course="dessert", name=f"Tart {i}"
        ),
    )

    winners = [dish for dish in dishes if dish is not None]
    assert len(winners) == 1
    assert len(errors) == 1
    (error,) = errors
    assert isinstance(error, services.MenuError), repr(error)
    assert str(error) in {
        "No desserts are wanted any more — someone just took the last one.",
        "Someone just took that slot. Pick another course.",
    }
    claimed = Dish.objects.filter(party=party, slot__isnull=False)
    assert claimed.count() == 2
    assert set(claimed.values_list("name", flat=True)) == {"Brownies", winners[0].name}
    assert not PotluckSlot.objects.filter(party=party, dish__isnull=True).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_reply_locks_the_partys_row_not_its_hosts_account(transactional_db):
    """Every service locks the party (services.LOCKED_PARTY, with its host joined
    in): the host's own row must stay free, or every reply to any of their parties
    would hold up their login (last_login) and profile edits."""
    party = DinnerPartyFactory()

    def try_lock(model, pk: int) -> str:
        with transaction.atomic():
            try:
                model.objects.select_for_update(nowait=True).get(pk=pk)
            except DatabaseError:
                return "busy"
        return "free"

    with transaction.atomic():
        queries.LOCKED_PARTY.get(pk=party.pk)
        results, errors = run_at_once(
            2,
            lambda i: try_lock(*((DinnerParty, party.pk), (User, party.host_id))[i]),
        )

    assert errors == []
    assert results == ["busy", "free"]


def test_a_replys_link_opened_twice_at_once_counts_once(transactional_db):
    """A double click, or a mail scanner racing the guest: the waiting reply's row
    lock lets one through; the other finds the link used."""
    party = DinnerPartyFactory(seats=SEATS)
    reply = PendingReply.objects.create(
        party=party, name="Maria Lopez", email="maria@example.com", status=RSVPStatus.GOING
    )

    def confirm(_index: int):
        try:
            return services.guest_reply_confirm(
                reply_id=reply.pk, party_id=party.pk, viewer=AnonymousUser()
            )
        except services.GuestReplyError as error:
            return error.problem

    outcomes, errors = run_at_once(4, confirm)

    assert errors == []
    assert sum(isinstance(o, services.GuestReplyOutcome) for o in outcomes) == 1
    assert sorted(str(o) for o in outcomes if isinstance(o, str)) == ["used"] * 3
    assert User.objects.filter(email="maria@example.com").count() == 1
    assert RSVP.objects.filter(party=party).count() == 1
    assert_seats_consistent()
