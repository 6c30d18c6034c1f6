"""The only code that changes RSVP state and seat counts.

Every function runs in one transaction with the party's row locked
(``select_for_update``; on SQLite the IMMEDIATE transaction mode serialises
writers), so ``seats_taken`` never exceeds ``seats`` even when many guests
reply at the same instant. Views, the admin and commands all call these.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import User
from common.food import COURSE_PLURALS, Course, course_count
from parties import notifications
from parties.models import (
    RSVP,
    Announcement,
    DinnerParty,
    Dish,
    Notice,
    PotluckSlot,
    RSVPStatus,
    new_invite_token,
)
from parties.queries import (
    LOCKED_PARTY,
    RELEASED_CLAIMS,
    REPLY,
    SAVE_REPLY,
    SEATS_AND_VERSION,
    VISIBLE_LOCKED_PARTY,
    VISIBLE_LOCKED_PARTY_BY_LINK,
    WAITLIST,
    claims_of,
)


class RsvpError(Exception):
    """A reply the rules refuse; its message is meant for the guest."""


class SeatsBelowTaken(Exception):
    def __init__(self, seats_taken: int):
        self.seats_taken = seats_taken
        super().__init__(
            f"{seats_taken} seats are already taken, so the table needs at least {seats_taken}."
        )


@dataclass(frozen=True)
class RsvpOutcome:
    rsvp: RSVP
    waitlist_position: int | None = None
    promoted: list[RSVP] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.rsvp.status


def _locked(party: DinnerParty, *, bump_version: bool = True) -> DinnerParty:
    """Lock the party's row for this transaction and move its version on: the
    caller is about to change what its page shows (see `DinnerParty.version`).
    A caller that updates the row anyway may move it on there instead
    (`bump_version=False`), saving a statement."""
    if bump_version:
        SEATS_AND_VERSION.run(pk=party.pk, seats=0, version=1)
    return LOCKED_PARTY.get(pk=party.pk)


def _locked_for_guest(pk: int, guest, invite_token: str) -> DinnerParty:
    """The party under its lock, if this guest may see it (`visible_to`, with the
    invite link they came with); DinnerParty.DoesNotExist if not, or if it is gone."""
    if guest.is_superuser:
        return LOCKED_PARTY.get(pk=pk)
    if invite_token:
        return VISIBLE_LOCKED_PARTY_BY_LINK.get(pk=pk, guest_id=guest.pk, invite_token=invite_token)
    return VISIBLE_LOCKED_PARTY.get(pk=pk, guest_id=guest.pk)


def party_changed(parties: DinnerParty | QuerySet[DinnerParty]) -> None:
    """What these parties' pages show changed without the party's lock (a dish, a
    co-host, a renamed guest): move their versions on, so no cached copy of the
    old page is served. (Changes made under the lock move it in `_locked`.)"""
    if isinstance(parties, DinnerParty):
        parties = DinnerParty.objects.filter(pk=parties.pk)
    parties.update(version=F("version") + 1)


def guest_renamed(*, user) -> None:
    """A user's name shows on the pages of the parties they replied to, host and
    co-host (guest lists, dishes they bring, messages they post)."""
    party_changed(
        DinnerParty.objects.filter(
            Q(pk__in=RSVP.objects.filter(guest=user).values("party_id"))
            | Q(host=user)
            | Q(
                pk__in=DinnerParty.cohosts.through.objects.filter(user=user).values(
                    "dinnerparty_id"
                )
            )
        )
    )


def waitlist_position(rsvp: RSVP) -> int | None:
    if rsvp.status != RSVPStatus.WAITLISTED:
        return None
    ahead = RSVP.objects.filter(
        Q(waitlisted_at__lt=rsvp.waitlisted_at)
        | Q(waitlisted_at=rsvp.waitlisted_at, pk__lt=rsvp.pk),
        party_id=rsvp.party_id,
        status=RSVPStatus.WAITLISTED,
    ).count()
    return ahead + 1


def promote_waitlist(*, party: DinnerParty) -> list[RSVP]:
    """Seat waitlisted guests in arrival order while they fit (a single guest may
    pass a group that doesn't fit yet). The caller holds the party's lock."""
    free = party.seats - party.seats_taken
    promoted: list[RSVP] = []
    if free <= 0:
        return promoted
    for rsvp in WAITLIST.all(party_id=party.pk):
        if rsvp.seats_needed <= free:
            free -= rsvp.seats_needed
            rsvp.status = RSVPStatus.GOING
            rsvp.waitlisted_at = None
            promoted.append(rsvp)
        if free == 0:
            break
    if promoted:
        now = timezone.now()
        for rsvp in promoted:
            rsvp.updated_at = now
        RSVP.objects.bulk_update(promoted, ["status", "waitlisted_at", "updated_at"])
        party.seats_taken = party.seats - free
        DinnerParty.objects.filter(pk=party.pk).update(seats_taken=party.seats_taken)
        leave_notices(
            Notice(
                user_id=rsvp.guest_id,
                text=f"You've been moved from the waitlist to the table at {party.describe()}!",
            )
            for rsvp in promoted
        )
        for rsvp in promoted:
            notifications.enqueue(notifications.send_promotion_email, rsvp.pk)
    return promoted


def leave_notices(notices: Iterable[Notice]) -> None:
    """Store notices for their users' next page, and flag those users so that
    NoticeMiddleware looks for them (it skips users without the flag)."""
    stored = Notice.objects.bulk_create(notices)
    User.objects.filter(pk__in={notice.user_id for notice in stored}).update(has_notices=True)


def _change_seats_taken(party: DinnerParty, delta: int, *, bump_version: bool = False) -> None:
    if delta or bump_version:
        SEATS_AND_VERSION.run(pk=party.pk, seats=delta, version=int(bump_version))
        party.seats_taken += delta


def rsvp_refusal(*, party: DinnerParty, guest) -> str | None:
    """Why this guest may not reply to this party at all, if they may not."""
    if party.host_id == guest.pk:
        return "You're the host — your seat at the table is already saved."
    if party.has_started:
        return "This party has already started, so replies are closed."
    return None


def rsvp_submit(
    *,
    party: DinnerParty,
    guest,
    status: str,
    plus_ones: int = 0,
    note: str = "",
    plus_one_diets: list[str] | None = None,
    plus_one_allergies: list[str] | None = None,
    invite_token: str | None = None,
) -> RsvpOutcome:
    """Record a guest's reply. "going" that doesn't fit becomes "waitlisted";
    anything but "going" gives back the guest's potluck slots.

    With `invite_token` (a string, even empty: the guest's own request) the
    party is found only if the guest may see it, by its rules or by that invite
    link, else DinnerParty.DoesNotExist; without it (admin, commands) it is not
    checked."""
    if status not in {RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.DECLINED}:
        raise RsvpError("Choose going, maybe or can't go.")
    with transaction.atomic():
        # The seats update below moves the version on.
        if invite_token is None:
            party = _locked(party, bump_version=False)
        else:
            party = _locked_for_guest(party.pk, guest, invite_token)
        refusal = rsvp_refusal(party=party, guest=guest)
        if refusal:
            raise RsvpError(refusal)
        try:  # one at most (rsvp_one_per_guest_per_party)
            rsvp = REPLY.get(party_id=party.pk, guest_id=guest.pk)
            rsvp.guest = guest  # as given (the emails name them): not loaded again
        except RSVP.DoesNotExist:
            rsvp = RSVP(party=party, guest=guest)
        previous_status = rsvp.status
        held = rsvp.seats_needed if rsvp.status == RSVPStatus.GOING else 0
        needed = 1 + plus_ones
        free = party.seats - party.seats_taken + held

        if status == RSVPStatus.GOING:
            if needed <= free:
                new_status = RSVPStatus.GOING
            elif held:
                # Already at the table: keep the seat rather than lose it to the waitlist.
                raise RsvpError(
                    ngettext(
                        "Only %(free)d seat free for you, ",
                        "Only %(free)d seats free for you, ",
                        free,
                    )
                    % {"free": free}
                    + ngettext(
                        "so you can bring at most %(most)d plus-one.",
                        "so you can bring at most %(most)d plus-ones.",
                        free - 1,
                    )
                    % {"most": free - 1}
                )
            else:
                new_status = RSVPStatus.WAITLISTED
        else:
            new_status = status
        if new_status == RSVPStatus.DECLINED:
            # Nobody brings a plus-one to a dinner they can't go to.
            plus_ones = 0

        if new_status == RSVPStatus.WAITLISTED:
            if rsvp.status != RSVPStatus.WAITLISTED or rsvp.waitlisted_at is None:
                rsvp.waitlisted_at = timezone.now()
        else:
            rsvp.waitlisted_at = None
        rsvp.status = new_status
        rsvp.plus_ones = plus_ones
        rsvp.note = note
        rsvp.party = party
        if plus_one_diets is not None:
            rsvp.plus_one_diets = plus_one_diets if plus_ones else []
        if plus_one_allergies is not None:
            rsvp.plus_one_allergies = plus_one_allergies if plus_ones else []
        SAVE_REPLY.save(rsvp)
        if new_status != RSVPStatus.GOING and party.potluck:
            # (Only a potluck has slots to claim, and a party stays one once it is.)
            _release_claims(party_id=party.pk, guest_ids=[guest.pk])

        now_held = needed if new_status == RSVPStatus.GOING else 0
        _change_seats_taken(party, now_held - held, bump_version=True)
        promoted = promote_waitlist(party=party) if now_held < held else []
        notifications.enqueue_rsvp_emails(rsvp, notify_host=new_status != previous_status)
        return RsvpOutcome(rsvp=rsvp, waitlist_position=waitlist_position(rsvp), promoted=promoted)


def rsvp_come_with_fewer(
    *, party: DinnerParty, guest, plus_ones: int, invite_token: str = ""
) -> RsvpOutcome:
    """A waitlisted guest whose group doesn't fit takes the seats that are free
    now, with fewer plus-ones (`plus_ones`), keeping the rest of their reply.
    Refused (RsvpError) if they aren't waiting, asked for no fewer, or the seats
    went meanwhile; DinnerParty.DoesNotExist if they may not see the party."""
    with transaction.atomic():
        locked = _locked_for_guest(party.pk, guest, invite_token)
        try:
            rsvp = REPLY.get(party_id=locked.pk, guest_id=guest.pk)
        except RSVP.DoesNotExist:
            raise RsvpError("You haven't replied to this party yet.") from None
        if rsvp.status != RSVPStatus.WAITLISTED:
            raise RsvpError("You're not on the waitlist any more: nothing changed.")
        if not 0 <= plus_ones < rsvp.plus_ones:
            raise RsvpError("Choose fewer plus-ones than you asked for.")
        free = locked.seats - locked.seats_taken
        if 1 + plus_ones > free:
            raise RsvpError("Those seats have just been taken, so you're still on the waitlist.")
        return rsvp_submit(
            party=locked,
            guest=guest,
            status=RSVPStatus.GOING,
            plus_ones=plus_ones,
            note=rsvp.note,
            plus_one_diets=rsvp.plus_one_diets,
            plus_one_allergies=rsvp.plus_one_allergies,
            invite_token=invite_token,
        )


def rsvp_delete(*, rsvps: Iterable[RSVP]) -> list[RSVP]:
    """Delete RSVPs (admin, account deletion), freeing their seats for the waitlist."""
    promoted: list[RSVP] = []
    by_party: dict[int, list[int]] = {}
    for rsvp in rsvps:
        by_party.setdefault(rsvp.party_id, []).append(rsvp.pk)
    for party_id, pks in sorted(by_party.items()):
        with transaction.atomic():
            party = _locked(DinnerParty(pk=party_id))
            doomed = RSVP.objects.filter(party=party, pk__in=pks)
            freed = sum(r.seats_needed for r in doomed if r.status == RSVPStatus.GOING)
            _release_claims(party_id=party.pk, guest_ids=[r.guest_id for r in doomed])
            doomed.delete()
            _change_seats_taken(party, -freed)
            if freed:
                promoted += promote_waitlist(party=party)
    return promoted


def user_delete(*, user) -> None:
    """Delete an account: its replies free their seats first, the parties it hosts
    are cancelled (guests told), then the rest cascades."""
    with transaction.atomic():  # all of it, or nothing
        # Their dishes and messages go from the parties they co-host.
        party_changed(DinnerParty.objects.filter(cohosts=user))
        rsvp_delete(rsvps=RSVP.objects.filter(guest=user))
        for party in DinnerParty.objects.filter(host=user).select_related("host"):
            party_delete(party=party)
        user.delete()


def party_delete(*, party: DinnerParty) -> None:
    """Cancel a party; everyone who was coming, might come or was waiting is told."""
    with transaction.atomic():
        party = _locked(party)
        recipients = notifications.guest_addresses(
            party.rsvps.filter(status__in=notifications.INTERESTED)
        )
        title, when, host = party.title, party.when, party.host_name
        party.delete()
        notifications.enqueue(
            notifications.send_party_cancelled_email, recipients, title, when, host
        )


def party_update(*, party: DinnerParty, changes: Mapping[str, Any]) -> list[RSVP]:
    """Apply a host's edits. Seats can't drop below those taken; more seats
    promote from the waitlist. Returns the guests promoted."""
    with transaction.atomic():
        locked = _locked(party)
        changes = {name: value for name, value in changes.items() if getattr(locked, name) != value}
        seats = changes.get("seats", locked.seats)
        if seats < locked.seats_taken:
            raise SeatsBelowTaken(locked.seats_taken)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        promoted = promote_waitlist(party=locked)
        changed = [
            label
            for label, fields in (("time", ("starts_at",)), ("place", ("venue",)))
            if any(name in changes for name in fields)
        ]
        if changed and not locked.has_started:
            notifications.enqueue(notifications.send_party_changed_email, locked.pk, changed)
    for name in ("seats_taken", "updated_at", *changes):
        setattr(party, name, getattr(locked, name))
    return promoted


def regenerate_invite(*, party: DinnerParty) -> str:
    """A new invite link; the old one stops working at once."""
    party.invite_token = new_invite_token()
    party.save(update_fields=["invite_token", "updated_at"])
    return party.invite_token


# --- Menu and potluck ---------------------------------------------------------


class MenuError(Exception):
    """A menu change the rules refuse; its message is meant for the person."""


ANNOUNCEMENTS_PER_DAY = 5


def _release_claims(*, party_id: int, guest_ids: list[int]) -> None:
    """These guests no longer bring the potluck dishes they claimed: one DELETE
    (compiled once for the single guest of a reply)."""
    if len(guest_ids) == 1:
        RELEASED_CLAIMS.run(party_id=party_id, guest_id=guest_ids[0])
    elif guest_ids:
        claims_of(party_id, guest_ids).delete()


def suggested_slots(head_count: int) -> dict[str, int]:
    """A starting point for a potluck: roughly one dish per course for every
    six people (sides and drinks a little more often); the host edits it."""

    def per(people: int) -> int:
        return max(1, -(-head_count // people))  # ceiling division

    return {
        Course.STARTER: per(6),
        Course.MAIN: per(6),
        Course.SIDE: per(4),
        Course.DESSERT: per(6),
        Course.DRINKS: per(5),
    }


def potluck_set_slots(*, party: DinnerParty, wanted: Mapping[str, int]) -> None:
    """Open the potluck (or change how many of each course are wanted). A course
    can't drop below the dishes already claimed for it."""
    with transaction.atomic():
        party = _locked(party)
        for course, count in wanted.items():
            slots = list(
                PotluckSlot.objects.filter(party=party, course=course)
                .select_related("dish")
                .order_by("position")
            )
            claimed = sum(1 for slot in slots if hasattr(slot, "dish"))
            if count < claimed:
                verb = "is" if claimed == 1 else "are"
                raise MenuError(
                    f"{course_count(course, claimed)} {verb} already promised, "
                    f"so keep at least {claimed}."
                )
            if count > len(slots):
                start = slots[-1].position + 1 if slots else 1
                PotluckSlot.objects.bulk_create(
                    PotluckSlot(party=party, course=course, position=start + i)
                    for i in range(count - len(slots))
                )
            else:
                # Drop free slots, the last ones first.
                free = [slot for slot in reversed(slots) if not hasattr(slot, "dish")]
                doomed = free[: len(slots) - count]
                PotluckSlot.objects.filter(pk__in=[slot.pk for slot in doomed]).delete()
        if not party.potluck:
            DinnerParty.objects.filter(pk=party.pk).update(potluck=True)


def dish_add(*, party: DinnerParty, cook, course: str, name: str, **tags) -> Dish:
    """The host (or a co-host) adds a dish of their own to the menu."""
    dish = Dish.objects.create(party=party, added_by=cook, course=course, name=name, **tags)
    party_changed(party)
    return dish


def slot_claim(*, party: DinnerParty, guest, course: str, name: str, **tags) -> Dish:
    """A guest who is going claims a free slot of a course with a dish. Two guests
    claiming the last slot at once: one wins, the other is told it's gone."""
    try:
        with transaction.atomic():
            party = _locked(party)
            if not party.potluck:
                raise MenuError("This party isn't a potluck.")
            if party.has_started:
                raise MenuError("This party has already started.")
            going = RSVP.objects.filter(party=party, guest=guest, status=RSVPStatus.GOING)
            if not going.exists():
                raise MenuError("Only guests who are going can bring a dish.")
            slot = (
                PotluckSlot.objects.filter(party=party, course=course, dish__isnull=True)
                .order_by("position")
                .first()
            )
            if slot is None and not PotluckSlot.objects.filter(party=party, course=course).exists():
                raise MenuError(
                    f"The host isn't asking for {COURSE_PLURALS.get(course, 'dishes')}. "
                    "Pick a course that's wanted."
                )
            if slot is None:
                raise MenuError(
                    f"No {COURSE_PLURALS.get(course, 'dishes')} are wanted any more — "
                    "someone just took the last one."
                )
            return Dish.objects.create(
                party=party, added_by=guest, course=course, name=name, slot=slot, **tags
            )
    except IntegrityError as error:
        # The unique slot held when the lock could not (another claim won).
        raise MenuError("Someone just took that slot. Pick another course.") from error


def dish_update(*, dish: Dish, name: str, **tags) -> Dish:
    dish.name = name
    for field_name, value in tags.items():
        setattr(dish, field_name, value)
    dish.save()
    party_changed(DinnerParty.objects.filter(pk=dish.party_id))
    return dish


def dish_remove(*, dish: Dish) -> None:
    """Release a claimed slot (it becomes wanted again) or drop a host's dish."""
    dish.delete()
    party_changed(DinnerParty.objects.filter(pk=dish.party_id))


# --- Co-hosts and announcements ---------------------------------------------


def cohost_add(*, party: DinnerParty, user) -> None:
    if user.pk == party.host_id:
        raise MenuError("The host is already running this party.")
    party.cohosts.add(user)
    party_changed(party)


def cohost_remove(*, party: DinnerParty, user) -> None:
    party.cohosts.remove(user)
    party_changed(party)


def announce(*, party: DinnerParty, author, audience: str, text: str) -> Announcement:
    """Post a message to guests (shown on the party page and emailed), at most
    ANNOUNCEMENTS_PER_DAY a day per party."""
    with transaction.atomic():
        party = _locked(party)
        since = timezone.now() - timedelta(days=1)
        if party.announcements.filter(created_at__gte=since).count() >= ANNOUNCEMENTS_PER_DAY:
            raise MenuError(
                f"You've sent {ANNOUNCEMENTS_PER_DAY} messages today — that's the limit, "
                "so guests don't get swamped. Try again tomorrow."
            )
        announcement = Announcement.objects.create(
            party=party, author=author, audience=audience, text=text
        )
        notifications.enqueue(notifications.send_announcement, announcement.pk)
        return announcement


def send_held_announcements(*, author) -> None:
    """`author` has just confirmed their email address: email the messages to
    guests that waited for it (each goes once, see `send_announcement`)."""
    held = Announcement.objects.filter(author=author, emailed_at__isnull=True)
    for pk in held.order_by("created_at", "pk").values_list("pk", flat=True):
        notifications.enqueue(notifications.send_announcement, pk)
