"""The only code that changes RSVP state and seat counts.

Every function runs in one transaction with the party's row locked
(``select_for_update``; on SQLite the IMMEDIATE transaction mode serialises
writers), so ``seats_taken`` never exceeds ``seats`` even when many guests
reply at the same instant. Views, the admin and commands all call these.
"""

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext
from django_otp import user_has_device

from accounts.models import (
    UNCONFIRMED_EMAIL_KEPT_FOR,
    User,
    accounts_with_address,
    unconfirmed_too_long,
)
from common.food import COURSE_PLURALS, course_count
from parties import deadline, notifications, schedule
from parties import invitations as invitation_rules
from parties.guest_replies import LINK_VALID_FOR, LinkProblem
from parties.menu import suggested_slots  # noqa: F401 (services.suggested_slots, as before)
from parties.models import (
    RSVP,
    Announcement,
    CalendarFeed,
    DeliveryStatus,
    DinnerParty,
    Dish,
    Invitation,
    InvitationState,
    Notice,
    PendingReply,
    PotluckSlot,
    RSVPStatus,
    new_invite_token,
)
from parties.queries import (
    ADDRESS_AND_USERNAMES,
    LOCKED_PARTY,
    LOCKED_PENDING_REPLY,
    NEW_ACCOUNT,
    NEW_REPLY,
    PENDING_REPLY_USED,
    RELEASED_CLAIMS,
    REPLY,
    REPLY_UNDER_LOCK,
    SAVE_REPLY,
    SEATS_AND_VERSION,
    USERNAME_CHOICES,
    USERNAME_INPUTS,
    VISIBLE_LOCKED_PARTY,
    VISIBLE_LOCKED_PARTY_BY_LINK,
    WAITLIST,
    WAITLIST_AHEAD,
    claims_of,
)


class RsvpError(Exception):
    """A reply the rules refuse; its message is meant for the guest."""


class SeatsBelowTaken(Exception):
    def __init__(self, seats_taken: int):
        self.seats_taken = seats_taken
        super().__init__(
            ngettext(
                "%(taken)d seat is already taken, so the table needs at least %(taken)d.",
                "%(taken)d seats are already taken, so the table needs at least %(taken)d.",
                seats_taken,
            )
            % {"taken": seats_taken}
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
    rows = WAITLIST_AHEAD.rows(
        viewer=None, party_id=rsvp.party_id, waitlisted_at=rsvp.waitlisted_at, pk=rsvp.pk
    )
    return (rows[0]["ahead"] if rows else 0) + 1


def promote_waitlist(*, party: DinnerParty, anyone_waiting: bool = True) -> list[RSVP]:
    """Seat waitlisted guests in arrival order while they fit (a single guest may
    pass a group that doesn't fit yet). The caller holds the party's lock.

    `anyone_waiting=False`: the caller read, under that lock, that nobody is
    waitlisted (`REPLY_UNDER_LOCK`), so the waitlist is not read."""
    free = party.seats - party.seats_taken
    promoted: list[RSVP] = []
    if free <= 0 or not anyone_waiting:
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
        # Each notice in its guest's own language (read only when someone moves up).
        languages = dict(
            User.objects.filter(pk__in=[rsvp.guest_id for rsvp in promoted]).values_list(
                "pk", "language"
            )
        )

        def moved_up(guest_id: int) -> str:
            with translation.override(languages.get(guest_id) or settings.LANGUAGE_CODE):
                return gettext("You've been moved from the waitlist to the table at %(party)s!") % {
                    "party": party.describe()
                }

        leave_notices(
            Notice(user_id=rsvp.guest_id, text=moved_up(rsvp.guest_id)) for rsvp in promoted
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


# After the reply-by date, the replies a guest may still change: stepping down.
STEPPING_DOWN_FROM = {
    RSVPStatus.GOING: {RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.DECLINED},
    RSVPStatus.WAITLISTED: {RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.DECLINED},
    RSVPStatus.MAYBE: {RSVPStatus.MAYBE, RSVPStatus.DECLINED},
}


def rsvp_refusal(*, party: DinnerParty, guest, rsvp: RSVP | None = None) -> str | None:
    """Why this guest may not reply to this party at all, if they may not. After
    the reply-by date only a guest with a standing reply (`rsvp`: going, maybe
    or waitlisted) may still change it, to step down (see `reply_by_refusal`)."""
    if party.host_id == guest.pk:
        return gettext("You're the host — your seat at the table is already saved.")
    if party.has_started:
        return gettext("This party has already started, so replies are closed.")
    if party.replies_closed and (rsvp is None or rsvp.status not in STEPPING_DOWN_FROM):
        return gettext("Replies closed on %(date)s.") % {"date": party.reply_by_text}
    return None


def reply_by_refusal(
    *, party: DinnerParty, rsvp: RSVP | None, status: str, plus_ones: int
) -> str | None:
    """After the reply-by date a reply may only step down: going to maybe or
    can't go, maybe to can't go, fewer plus-ones. (Leaving a seat promotes the
    waitlist as ever.)"""
    if not party.replies_closed:
        return None
    if rsvp is None or rsvp.status not in STEPPING_DOWN_FROM:
        return gettext("Replies closed on %(date)s.") % {"date": party.reply_by_text}
    if status not in STEPPING_DOWN_FROM[rsvp.status] or (
        status == RSVPStatus.GOING and plus_ones > rsvp.plus_ones
    ):
        return gettext(
            "Replies closed on %(date)s: you can still step down "
            "or bring fewer plus-ones, but not more."
        ) % {"date": party.reply_by_text}
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
    first_reply: bool = False,
) -> RsvpOutcome:
    """Record a guest's reply. "going" that doesn't fit becomes "waitlisted";
    anything but "going" gives back the guest's potluck slots.

    `first_reply`: the guest's account was made in the caller's transaction, so
    they have no reply to this party yet and none is looked up.

    With `invite_token` (a string, even empty: the guest's own request) the
    party is found only if the guest may see it, by its rules or by that invite
    link, else DinnerParty.DoesNotExist; without it (admin, commands) it is not
    checked."""
    if status not in {RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.DECLINED}:
        raise RsvpError(gettext("Choose going, maybe or can't go."))
    with transaction.atomic():
        # The seats update below moves the version on.
        if invite_token is None:
            party = _locked(party, bump_version=False)
        else:
            party = _locked_for_guest(party.pk, guest, invite_token)
        if not party.replies_closed:  # (after the deadline the reply decides: below)
            refusal = rsvp_refusal(party=party, guest=guest)
            if refusal:
                raise RsvpError(refusal)
        try:  # one at most (rsvp_one_per_guest_per_party)
            if first_reply:
                raise RSVP.DoesNotExist
            rsvp = REPLY_UNDER_LOCK.get(party_id=party.pk, guest_id=guest.pk)
            rsvp.guest = guest  # as given (the emails name them): not loaded again
        except RSVP.DoesNotExist:
            rsvp = RSVP(party=party, guest=guest)
        if party.replies_closed:  # past the reply-by date: stepping down only
            standing = rsvp if rsvp.pk else None
            refusal = rsvp_refusal(party=party, guest=guest, rsvp=standing) or reply_by_refusal(
                party=party, rsvp=standing, status=status, plus_ones=plus_ones
            )
            if refusal:
                raise RsvpError(refusal)
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
        if rsvp.pk is None:
            NEW_REPLY.insert(rsvp)
        else:
            SAVE_REPLY.save(rsvp)
        if new_status != RSVPStatus.GOING and party.potluck:
            # (Only a potluck has slots to claim, and a party stays one once it is.)
            _release_claims(party_id=party.pk, guest_ids=[guest.pk])

        now_held = needed if new_status == RSVPStatus.GOING else 0
        _change_seats_taken(party, now_held - held, bump_version=True)
        # (Seats are given back only by a reply that held them: one read above.)
        promoted = (
            promote_waitlist(party=party, anyone_waiting=rsvp.anyone_waiting)
            if now_held < held
            else []
        )
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
            raise RsvpError(gettext("You haven't replied to this party yet.")) from None
        if rsvp.status != RSVPStatus.WAITLISTED:
            raise RsvpError(gettext("You're not on the waitlist any more: nothing changed."))
        if not 0 <= plus_ones < rsvp.plus_ones:
            raise RsvpError(gettext("Choose fewer plus-ones than you asked for."))
        free = locked.seats - locked.seats_taken
        if 1 + plus_ones > free:
            raise RsvpError(
                gettext("Those seats have just been taken, so you're still on the waitlist.")
            )
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
        recipients = notifications.guest_addresses_and_languages(
            party.rsvps.filter(status__in=notifications.INTERESTED)
        )
        title, when, host = party.title, party.when, party.host_name
        starts_at, zone = party.starts_at.isoformat(), party.timezone
        place = notifications.public_place(party)
        cancellation = notifications.cancellation_ics(party)
        party.delete()
        notifications.enqueue(
            notifications.send_party_cancelled_email,
            recipients,
            title,
            when,
            host,
            place,
            calendar=cancellation,
            starts_at=starts_at,
            zone=zone,
        )


def party_create(*, party: DinnerParty) -> DinnerParty:
    """Save a new party (its host set) and schedule its timed tasks with it: the
    reminder, and the reply-by date's final numbers."""
    with transaction.atomic():
        party.save()
        schedule.schedule_party_tasks(party)
        schedule.schedule_reply_reminders(party)
        deadline.schedule_final_numbers(party)
    return party


def party_update(*, party: DinnerParty, changes: Mapping[str, Any]) -> list[RSVP]:
    """Apply a host's edits. Seats can't drop below those taken; more seats
    promote from the waitlist. Returns the guests promoted."""
    with transaction.atomic():
        locked = _locked(party)
        changes = {name: value for name, value in changes.items() if getattr(locked, name) != value}
        before = notifications.party_before(locked)
        replies_closed_at = schedule.reply_deadline(locked)
        seats = changes.get("seats", locked.seats)
        if seats < locked.seats_taken:
            raise SeatsBelowTaken(locked.seats_taken)
        for name, value in changes.items():
            setattr(locked, name, value)
        changed = [
            label
            for label, fields in (("time", ("starts_at", "ends_at")), ("place", ("venue",)))
            if any(name in changes for name in fields)
        ]
        if changed:  # calendars replace their entry with a higher SEQUENCE
            locked.sequence += 1
        if "reply_by" in changes:  # a new deadline: its own final numbers, then
            locked.final_numbers_sent_at = None
        locked.save()
        promoted = promote_waitlist(party=locked)
        if changed and not locked.has_started:
            notifications.enqueue(
                notifications.send_party_changed_email, locked.pk, changed, before
            )
        if "starts_at" in changes:
            schedule.schedule_party_tasks(locked, moved=True)
        if schedule.reply_deadline(locked) != replies_closed_at:
            schedule.schedule_reply_reminders(locked, moved=True)
        if "reply_by" in changes:
            deadline.schedule_final_numbers(locked)
    for name in ("seats_taken", "updated_at", "sequence", "final_numbers_sent_at", *changes):
        setattr(party, name, getattr(locked, name))
    return promoted


def calendar_feed_token(*, user) -> str:
    """The token of the user's private calendar feed, made on first use."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed.token


def calendar_feed_renew(*, user) -> bool:
    """A new calendar feed link for the user (the old one stops working at once),
    or their first one; whether there was an old one."""
    with transaction.atomic():
        if CalendarFeed.objects.filter(user=user).update(token=new_invite_token()):
            return True
        CalendarFeed.objects.create(user=user)
        return False


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
                raise MenuError(
                    ngettext(
                        "%(dishes)s is already promised, so keep at least %(count)d.",
                        "%(dishes)s are already promised, so keep at least %(count)d.",
                        claimed,
                    )
                    % {"dishes": course_count(course, claimed), "count": claimed}
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
                raise MenuError(gettext("This party isn't a potluck."))
            if party.has_started:
                raise MenuError(gettext("This party has already started."))
            going = RSVP.objects.filter(party=party, guest=guest, status=RSVPStatus.GOING)
            if not going.exists():
                raise MenuError(gettext("Only guests who are going can bring a dish."))
            slot = (
                PotluckSlot.objects.filter(party=party, course=course, dish__isnull=True)
                .order_by("position")
                .first()
            )
            if slot is None and not PotluckSlot.objects.filter(party=party, course=course).exists():
                raise MenuError(
                    gettext("The host isn't asking for %(dishes)s. Pick a course that's wanted.")
                    % {"dishes": COURSE_PLURALS.get(course, gettext("dishes"))}
                )
            if slot is None:
                raise MenuError(
                    gettext("No %(dishes)s are wanted any more — someone just took the last one.")
                    % {"dishes": COURSE_PLURALS.get(course, gettext("dishes"))}
                )
            return Dish.objects.create(
                party=party, added_by=guest, course=course, name=name, slot=slot, **tags
            )
    except IntegrityError as error:
        # The unique slot held when the lock could not (another claim won).
        raise MenuError(gettext("Someone just took that slot. Pick another course.")) from error


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
        raise MenuError(gettext("The host is already running this party."))
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
                ngettext(
                    "You've sent %(count)d message today — that's the limit, "
                    "so guests don't get swamped. Try again tomorrow.",
                    "You've sent %(count)d messages today — that's the limit, "
                    "so guests don't get swamped. Try again tomorrow.",
                    ANNOUNCEMENTS_PER_DAY,
                )
                % {"count": ANNOUNCEMENTS_PER_DAY}
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
    send_held_invitations(host=author)


# --- Replies without a password (parties/guest_replies.py) ------------------------------


class GuestReplyError(Exception):
    """A reply's link that records nothing: `problem` says why, `str()` is for the
    visitor when the party's rules refused it."""

    def __init__(
        self, problem: LinkProblem, detail: str = "", *, reply: PendingReply | None = None
    ):
        self.problem = problem
        self.reply = reply  # the waiting reply the link named, if it was found
        super().__init__(detail or problem.value)


@dataclass(frozen=True)
class GuestReplyOutcome:
    guest: User
    created: bool  # a guest account was made for the address
    outcome: RsvpOutcome
    reply: PendingReply | None = None  # the waiting reply that counted (a reply by its link)


def account_for_address(email: str) -> User | None:
    """The account `email` belongs to (in any letter case), if any: not one whose
    unconfirmed address was left too long (it is free for someone else)."""
    owners = accounts_with_address(email).exclude(unconfirmed_too_long()).order_by()
    return next(iter(owners[:1]), None)


def _username_candidates(name: str) -> list[str]:
    """The usernames a guest account named `name` may take, in order of preference."""
    base = slugify(name)[:30].strip("-_") or "guest"
    return [base, *(f"{base}-{number}" for number in range(2, USERNAME_CHOICES + 1))]


def _account_and_username(email: str, name: str) -> tuple[User | None, str]:
    """The account `email` belongs to (as `account_for_address`), and the
    username a new account named `name` would take (unique in any letter case):
    one query for both (`ADDRESS_AND_USERNAMES`), and the account loaded if there is one."""
    candidates = _username_candidates(name)
    found = ADDRESS_AND_USERNAMES.rows(
        viewer=AnonymousUser(),
        email=email,
        joined_before=timezone.now() - UNCONFIRMED_EMAIL_KEPT_FOR,
        **dict(zip(USERNAME_INPUTS, candidates, strict=True)),
    )
    owner_id = next((row["pk"] for row in found if row["owns_address"]), None)
    taken = {row["lowered"] for row in found}
    free = [candidate for candidate in candidates if candidate not in taken]
    # (Past USERNAME_CHOICES namesakes, a random ending rather than counting on.)
    username = free[0] if free else f"{candidates[0]}-{secrets.token_hex(3)}"
    owner = User.objects.filter(pk=owner_id).first() if owner_id is not None else None
    return owner, username


def is_guest_account(user: User) -> bool:
    """An account made by a reply's link: no password and no second factor, so a
    link to its confirmed address may log it in. Any other account logs in itself."""
    return not user.has_usable_password() and not user_has_device(user)


def guest_reply_request(
    *,
    party: DinnerParty,
    invite_token: str,
    name: str,
    email: str,
    status: str,
    plus_ones: int = 0,
    note: str = "",
) -> None:
    """A visitor's reply from the party's preview (the caller checked they may see
    it): kept until the link emailed to `email` is opened. An address whose account
    has a password (or a second factor) gets an email asking its owner to log in
    and reply, and nothing is kept: the visitor is told the same either way."""
    if status not in {RSVPStatus.GOING, RSVPStatus.MAYBE, RSVPStatus.DECLINED}:
        raise RsvpError(gettext("Choose going, maybe or can't go."))
    account = account_for_address(email)
    with transaction.atomic():
        if account is not None and not is_guest_account(account):
            notifications.enqueue(
                notifications.send_log_in_to_reply_email, account.pk, party.pk, invite_token
            )
            return
        reply = PendingReply.objects.create(
            party=party,
            invite_token=invite_token,
            name=name,
            email=email,
            status=status,
            plus_ones=plus_ones,
            note=note,
        )
        notifications.enqueue(
            notifications.send_guest_reply_link,
            reply.pk,
            language=notifications.request_language(),
        )


def _new_guest_account(*, name: str, email: str, username: str) -> User:
    """An account for a reply's address (`username` from `_account_and_username`),
    the name as its first name, the address confirmed (the link was opened), no
    password (the party page offers to set one) and so no second factor either.
    Made in the caller's transaction: a clash raises, and it rolls back whole."""
    now = timezone.now()
    # (Logged in at once by the link's view: its login time goes in with the row.)
    user = User(
        username=username, email=email, first_name=name, email_confirmed_at=now, last_login=now
    )
    user.set_unusable_password()
    try:
        NEW_ACCOUNT.insert(user)
    except IntegrityError:  # the name or the address taken at this very moment
        raise GuestReplyError(LinkProblem.CLOSED, gettext("Please open the link again.")) from None
    user.has_authenticator = False  # (for the login that follows: accounts.two_factor)
    user.last_login_recorded = True  # (and its time: accounts.signals)
    return user


def guest_reply_confirm(*, reply_id: int, party_id: int, viewer) -> GuestReplyOutcome:
    """Open a reply's link (to party `party_id`): the reply counts (through
    `rsvp_submit`, so it takes a seat or joins the waitlist) for the address's
    guest account, made now if there is none. Once only, within LINK_VALID_FOR;
    GuestReplyError, with nothing recorded, when the reply is missing, the link
    is used or expired, the address belongs to a closed (inactive) account or one
    with a password, `viewer` (the request's user) is logged in to another
    account, or the party refuses the reply (started, link replaced, …).

    The reply is read once, under its lock. A guest account made here has no
    reply yet and no second factor: neither is looked up."""
    with transaction.atomic():
        reply = LOCKED_PENDING_REPLY.first(pk=reply_id, party_id=party_id)
        if reply is None:
            raise GuestReplyError(LinkProblem.INVALID)
        if reply.used_at is not None:
            raise GuestReplyError(LinkProblem.USED, reply=reply)
        if reply.created_at < timezone.now() - LINK_VALID_FOR:
            raise GuestReplyError(LinkProblem.EXPIRED, reply=reply)
        guest, username = _account_and_username(reply.email, reply.name)
        if guest is not None and not guest.is_active:
            raise GuestReplyError(LinkProblem.INACTIVE, reply=reply)
        if guest is not None and not is_guest_account(guest):
            raise GuestReplyError(LinkProblem.MEMBER, reply=reply)
        if viewer.is_authenticated and (guest is None or guest.pk != viewer.pk):
            raise GuestReplyError(LinkProblem.OTHER_ACCOUNT, reply=reply)
        created = guest is None
        if created:
            guest = _new_guest_account(name=reply.name, email=reply.email, username=username)
        else:
            guest.has_authenticator = False  # (is_guest_account: no device)
            if not guest.email_confirmed:
                guest.email_confirmed_at = timezone.now()
                User.objects.filter(pk=guest.pk).update(email_confirmed_at=guest.email_confirmed_at)
        PENDING_REPLY_USED.run(pk=reply.pk)
        try:
            outcome = rsvp_submit(
                party=DinnerParty(pk=reply.party_id),
                guest=guest,
                status=reply.status,
                plus_ones=reply.plus_ones,
                note=reply.note,
                invite_token=reply.invite_token,
                first_reply=created,
            )
        except DinnerParty.DoesNotExist:
            raise GuestReplyError(
                LinkProblem.CLOSED,
                gettext(
                    "The host has replaced this party's invite link. Ask them for the new one."
                ),
                reply=reply,
            ) from None
        except RsvpError as error:
            raise GuestReplyError(LinkProblem.CLOSED, str(error), reply=reply) from None
        return GuestReplyOutcome(guest=guest, created=created, outcome=outcome, reply=reply)


# --- Invitations by email (parties/invitations.py) ---------------------------------------


class InvitationError(Exception):
    """Invitations the rules refuse; the message is for the host."""


@dataclass(frozen=True)
class InvitationsSent:
    invited: list[Invitation]
    already: list[str]  # addresses invited to this party before
    held: bool  # waiting for the host to confirm their own address


def invitations_left_today(*, host) -> int:
    since = timezone.now() - timedelta(days=1)
    sent = Invitation.objects.filter(invited_by=host, created_at__gte=since).count()
    return max(0, invitation_rules.PER_HOST_PER_DAY - sent)


def invitations_send(
    *, party: DinnerParty, by, addresses: list[tuple[str, str]]
) -> InvitationsSent:
    """Invite each (name, address) not invited to the party yet, and email each a
    personal link, once `by` (a host or co-host) has a confirmed address: until
    then they wait (`send_held_invitations`). At most PER_PASTE at a time and
    PER_HOST_PER_DAY a day per host, else InvitationError and nothing is sent."""
    if len(addresses) > invitation_rules.PER_PASTE:
        raise InvitationError(
            gettext("Paste at most %(max)d addresses at a time (%(given)d given).")
            % {"max": invitation_rules.PER_PASTE, "given": len(addresses)}
        )
    with transaction.atomic():
        party = _locked(party)  # one paste at a time per party: no address twice
        known = {
            email.lower()
            for email in Invitation.objects.filter(party=party).values_list("email", flat=True)
        }
        new = [(name, email) for name, email in addresses if email.lower() not in known]
        already = [email for _, email in addresses if email.lower() in known]
        left = invitations_left_today(host=by)
        if len(new) > left:
            raise InvitationError(
                gettext(
                    "You can send %(per_day)d invitations a day: %(left)d left today, "
                    "and this paste has %(new)d new addresses."
                )
                % {"per_day": invitation_rules.PER_HOST_PER_DAY, "left": left, "new": len(new)}
            )
        held = not by.email_confirmed
        state = InvitationState.HELD if held else InvitationState.INVITED
        invited = Invitation.objects.bulk_create(
            Invitation(party=party, email=email, name=name, invited_by=by, state=state)
            for name, email in new
        )
        if not held:
            for invitation in Invitation.objects.filter(party=party, state=state, sent_at=None):
                notifications.enqueue(
                    notifications.send_invitation_email,
                    invitation.pk,
                    language=notifications.request_language(),
                )
            _pending_changed(email for _, email in new)
        return InvitationsSent(invited=invited, already=already, held=held)


def send_held_invitations(*, host) -> None:
    """`host` has just confirmed their address: send the invitations that waited."""
    held = Invitation.objects.filter(invited_by=host, state=InvitationState.HELD)
    pks = list(held.values_list("pk", flat=True))
    Invitation.objects.filter(pk__in=pks).update(state=InvitationState.INVITED)
    for pk in pks:
        notifications.enqueue(
            notifications.send_invitation_email, pk, language=notifications.request_language()
        )
    _pending_changed(Invitation.objects.filter(pk__in=pks).values_list("email", flat=True))


def invitation_opened(*, invitation: Invitation) -> None:
    """The personal link was opened: "invited" becomes "opened" (once)."""
    if invitation.state == InvitationState.INVITED:
        invitation.state, invitation.opened_at = InvitationState.OPENED, timezone.now()
        Invitation.objects.filter(pk=invitation.pk, state=InvitationState.INVITED).update(
            state=invitation.state, opened_at=invitation.opened_at
        )


def invitation_reply(
    *, invitation: Invitation, viewer, status: str, plus_ones: int = 0, note: str = ""
) -> GuestReplyOutcome:
    """A reply through a personal link: the address is the one the invitation
    reached, so no confirmation email; it counts at once (`rsvp_submit`, a seat or
    the waitlist) for the address's account, a guest account made now if there is
    none. GuestReplyError, nothing recorded, when the address belongs to a
    closed (inactive) account, or to an account with a password that isn't
    `viewer` (log in first), or `viewer` is
    another account, or the party refuses the reply."""
    name = invitation.name or invitation.email.partition("@")[0]
    with transaction.atomic():
        guest, username = _account_and_username(invitation.email, name)
        if guest is not None and not guest.is_active:
            raise GuestReplyError(LinkProblem.INACTIVE)
        if viewer.is_authenticated:
            if guest is None or guest.pk != viewer.pk:
                raise GuestReplyError(LinkProblem.OTHER_ACCOUNT)
            guest = viewer
        elif guest is not None and not is_guest_account(guest):
            raise GuestReplyError(LinkProblem.MEMBER)
        elif guest is not None:
            guest.has_authenticator = False  # (is_guest_account: no device)
        created = guest is None
        if created:
            guest = _new_guest_account(name=name, email=invitation.email, username=username)
        elif not guest.email_confirmed and guest.email.lower() == invitation.email.lower():
            guest.email_confirmed_at = timezone.now()
            User.objects.filter(pk=guest.pk).update(email_confirmed_at=guest.email_confirmed_at)
        try:
            # The personal link opens the party, private or not: no visibility check.
            outcome = rsvp_submit(
                party=DinnerParty(pk=invitation.party_id),
                guest=guest,
                status=status,
                plus_ones=plus_ones,
                note=note,
                first_reply=created,
            )
        except DinnerParty.DoesNotExist:
            raise GuestReplyError(LinkProblem.INVALID) from None
        except RsvpError as error:
            raise GuestReplyError(LinkProblem.CLOSED, str(error)) from None
        now = timezone.now()
        _pending_changed([invitation.email])
        Invitation.objects.filter(pk=invitation.pk).update(
            state=InvitationState.REPLIED,
            guest=guest,
            replied_at=now,
            opened_at=invitation.opened_at or now,
        )
        return GuestReplyOutcome(guest=guest, created=created, outcome=outcome)


def invitations_remind(*, party: DinnerParty) -> int:
    """Email again the invitees who haven't answered (not those whose email
    bounced), at most once per REMIND_EVERY per party. Returns how many."""
    with transaction.atomic():
        party = _locked(party)
        since = timezone.now() - invitation_rules.REMIND_EVERY
        if Invitation.objects.filter(party=party, reminded_at__gte=since).exists():
            raise InvitationError(gettext("You reminded your invitees less than a day ago."))
        # Not those the automatic reminder reached today (parties/schedule.py).
        waiting = (
            Invitation.objects.unanswered()
            .filter(party=party)
            .exclude(delivery__status=DeliveryStatus.FAILED)
            .exclude(reply_reminder_sent_at__gte=since)
        )
        pks = list(waiting.values_list("pk", flat=True))
        Invitation.objects.filter(pk__in=pks).update(reminded_at=timezone.now())
        for pk in pks:
            notifications.enqueue(
                notifications.send_invitation_email,
                pk,
                reminder=True,
                language=notifications.request_language(),
            )
        return len(pks)


def _pending_changed(addresses: Iterable[str]) -> None:
    """These addresses' pending invitations (the list page's, see
    `selectors.pending_invitations`) changed: drop their cached copies."""
    cache.delete_many([invitation_rules.pending_key(email) for email in addresses])
