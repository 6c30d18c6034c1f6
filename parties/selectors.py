"""What the party pages read, and the keys their cached copies are kept under.

Plain functions and small classes over what the views load; the views call
them and render (writes are in services.py). Every key here is made of what a
page or fragment shows, so a change gives a new key and nothing has to be
invalidated by hand."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from common.food import Course, Needs, allergen_noun
from parties.cards import CARD_TTL, fragment_key, time_bucket
from parties.invitations import REMIND_EVERY, pending_key
from parties.menu import (
    CourseMenu,
    build_menu,
    coverage,
    needs_of,
    needs_of_rsvp,
    suggested_slots,
)
from parties.models import (
    RSVP,
    Announcement,
    CalendarFeed,
    DeliveryStatus,
    DinnerParty,
    Dish,
    Invitation,
    InvitationState,
    PotluckSlot,
    RSVPStatus,
    audience_statuses,
    latest_party_start,
)
from parties.pagination import LookaheadPage
from parties.queries import PARTY_ACCESS, REPLY

# --- cache keys ----------------------------------------------------------------------

# Everything about the viewer that base.html or a cached page shows: the menu
# bar (their name, the Admin link), the menu's warnings for their diets and
# allergies, times in their zone. A field a template starts to show goes here
# (parties/tests/test_page_cache.py checks the templates against it).
VIEWER_FIELDS = (
    "pk",
    "username",
    "first_name",
    "last_name",
    "display_name",
    "is_staff",
    "is_superuser",
    "has_notices",
    "timezone",
    "diets",
    "allergies",
    # whether their address is confirmed: base.html's banner, their held messages
    "email",
    "pending_email",
    "email_confirmed_at",
    # a guest account (no password): the party page offers to set one
    "has_password",
)


def viewer_key(user) -> tuple:
    """The viewer's part of every cached page's key (`page_cache.cached_page`
    adds it): a visitor who is not logged in has none of these."""
    values = (getattr(user, name, None) for name in VIEWER_FIELDS)
    return tuple(tuple(value) if isinstance(value, list) else value for value in values)


def list_page_key(page: LookaheadPage, cards_key: str) -> tuple:
    """What a page of the party list shows besides the viewer: its cards and
    where the pages go from here."""
    return (page.number, page.has_next, cards_key)


def party_page_key(access: dict, *, invite_token: str, now: datetime) -> tuple:
    """What a guest's party page shows besides the viewer, from its
    `PARTY_ACCESS` row: the party's details (`updated_at`) and its replies, menu
    and messages (`version`: every change to those moves it on, see
    `services.party_changed`), the guest's own reply among them, whether replies
    have closed (the party started, or its reply-by date passed), and "in 3
    days" (the time bucket)."""
    return (
        (access["pk"], str(access["updated_at"]), access["version"], invite_token),
        access["viewer_status"],
        bool(access["has_started"]),
        bool(access["replies_closed"]),
        time_bucket(now),
    )


def guest_list_key(party: DinnerParty, *, is_host: bool) -> str:
    """The guest list fragment: every change to the replies (and to guests'
    names) moves the party's version on; neither the host nor anyone once the
    party has started (or its replies have closed) is asked to "be the first to
    say you're coming"."""
    return fragment_key(
        [(party.pk, party.version, is_host, party.has_started, party.replies_closed)]
    )


def reply_values(rsvp: RSVP | None) -> tuple:
    """What the reply form shows of the viewer's reply."""
    if rsvp is None:
        return ()
    return (
        rsvp.status,
        rsvp.plus_ones,
        rsvp.note,
        tuple(rsvp.plus_one_diets),
        tuple(rsvp.plus_one_allergies),
    )


def reply_form_key(party: DinnerParty, viewer, rsvp: RSVP | None) -> str:
    """The reply form's fields, as filled in with the viewer's reply."""
    return fragment_key([(party.pk, viewer.pk, *reply_values(rsvp))])


# --- the party page ------------------------------------------------------------------


def party_access(viewer, *, pk: int = 0, invite_token: str = "", now: datetime) -> dict | None:
    """May the viewer see the party (by its id, or by its invite link), how do
    they stand with it (their reply's status, co-hosting) and which version of
    its page is current: PARTY_ACCESS's row, or None if they may not see it."""
    found = PARTY_ACCESS.rows(viewer=viewer, now=now, pk=pk, invite_token=invite_token)
    return found[0] if found else None


def party_for_page(access: dict) -> DinnerParty | None:
    """The party of an access row, with its host and the viewer's standing
    (None if it was deleted between the two reads). Its replies (50 guests and
    more) are not loaded here: see `GuestList`."""
    party = DinnerParty.objects.select_related("host").filter(pk=access["pk"]).first()
    if party is not None:
        party.viewer_status = access["viewer_status"]
        party.viewer_cohosts = bool(access["viewer_cohosts"])
    return party


def viewer_reply(party: DinnerParty, viewer) -> RSVP | None:
    """The viewer's reply to the party, if they have one: no query when the
    access row says they have none."""
    if party.viewer_status is None:
        return None
    try:  # the service's own lookup of a guest's reply, compiled once
        rsvp = REPLY.get(party_id=party.pk, guest_id=viewer.pk)
    except RSVP.DoesNotExist:  # withdrawn between the two reads
        return None
    rsvp.guest = viewer
    return rsvp


@dataclass
class PartyExtras:
    """A party's dishes, potluck slots and messages. They change only through
    parties/services.py, which moves the party's version on, so they are cached
    under it: the party page reads them with one cache lookup, not three queries."""

    dishes: list[Dish]
    slots: list[PotluckSlot]
    announcements: list[Announcement]

    @classmethod
    def of(cls, party: DinnerParty) -> "PartyExtras":
        key = f"party-extras:{party.pk}:{party.version}"
        extras = cache.get(key)
        if extras is None:
            extras = cls(
                # (Users' password hashes stay out of the cache.)
                dishes=list(
                    Dish.objects.filter(party=party)
                    .select_related("added_by")
                    .defer("added_by__password")
                ),
                slots=list(PotluckSlot.objects.filter(party=party)),
                announcements=list(
                    Announcement.objects.filter(party=party)
                    .select_related("author")
                    .defer("author__password")
                ),
            )
            cache.set(key, extras, CARD_TTL)
        return extras


class GuestList:
    """A party's replies by status, loaded on first use: when the cached guest
    list has to be rendered, or for the hosts' summary."""

    def __init__(self, party: DinnerParty):
        self.party = party

    @cached_property
    def all(self) -> list[RSVP]:
        return list(
            RSVP.objects.filter(party=self.party)
            .select_related("guest")
            .order_by("created_at", "pk")
        )

    def of(self, status: str) -> list[RSVP]:
        return [rsvp for rsvp in self.all if rsvp.status == status]

    @cached_property
    def going(self) -> list[RSVP]:
        return self.of(RSVPStatus.GOING)

    @cached_property
    def maybe(self) -> list[RSVP]:
        return self.of(RSVPStatus.MAYBE)

    @cached_property
    def waitlisted(self) -> list[RSVP]:
        return sorted(self.of(RSVPStatus.WAITLISTED), key=lambda r: (r.waitlisted_at, r.pk))

    @cached_property
    def declined(self) -> list[RSVP]:
        return self.of(RSVPStatus.DECLINED)

    @cached_property
    def people(self) -> dict[str, int]:
        """People per status, plus-ones included ("3 people · 2 replies")."""
        counts = dict.fromkeys(RSVPStatus.values, 0)
        for rsvp in self.all:
            counts[rsvp.status] += rsvp.seats_needed
        return counts


def seat_offer(party: DinnerParty, rsvp: RSVP) -> dict | None:
    """What would seat a waitlisted guest: how many more seats, and, when some
    are free but too few for their group, coming with fewer plus-ones now. (None
    if their group fits already: the waitlist moves them at the next change.)"""
    free = max(party.seats_left, 0)
    needed = rsvp.seats_needed
    if needed <= free:
        return None
    return {
        "free": free if 0 < free < needed else 0,
        "needed": needed,
        "more": needed - free,
        "plus_ones": free - 1 if free else 0,
        "plus_ones_now": rsvp.plus_ones,
    }


def announcements_for(
    announcements: list[Announcement], *, status: str | None, can_manage: bool
) -> list[Announcement]:
    """The hosts' messages the viewer reads: the hosts read them all, a guest
    those sent to the replies like theirs."""
    return [a for a in announcements if can_manage or status in audience_statuses(a.audience)]


@dataclass
class PartyMenu:
    """The menu as the viewer reads it."""

    courses: list[CourseMenu]
    my_dishes: list[Dish]  # the potluck dishes the viewer brings
    coverage: list | None  # does every course suit every guest (for the hosts)
    claimable: list[tuple[str, str]]  # the courses the viewer may bring a dish for


def party_menu(
    party: DinnerParty,
    extras: PartyExtras,
    guests: GuestList,
    *,
    viewer,
    rsvp: RSVP | None,
    can_manage: bool,
) -> PartyMenu:
    """Each dish with what it means for the viewer (their reply's needs, or
    their own) and, for the hosts, for the guests who are going (whose replies
    are loaded only then)."""
    # The host's main dish first: it is checked like any dish.
    dishes = [party.main_dish_as_dish(), *extras.dishes]
    viewer_needs = needs_of_rsvp(rsvp) if rsvp else [needs_of(viewer)]
    table_needs = [n for r in guests.going for n in needs_of_rsvp(r)] if can_manage else None
    courses = build_menu(
        dishes=dishes,
        # Only a potluck's menu asks for dishes by course.
        slots=extras.slots if party.potluck else [],
        viewer_needs=viewer_needs,
        table_needs=table_needs,
    )
    return PartyMenu(
        courses=courses,
        my_dishes=[d for d in dishes if d.added_by_id == viewer.pk and d.slot_id],
        coverage=coverage(dishes=dishes, table_needs=table_needs) if can_manage else None,
        claimable=claimable_courses(party, rsvp, courses),
    )


def claimable_courses(
    party: DinnerParty, rsvp: RSVP | None, courses: list[CourseMenu]
) -> list[tuple[str, str]]:
    """The courses (value, label) a guest may bring a dish for: at a potluck, to
    guests who are going, those with a dish still wanted."""
    if not (party.potluck and rsvp and rsvp.status == RSVPStatus.GOING):
        return []
    wanted = {menu.course for menu in courses if menu.wanted_left}
    return [(value, label) for value, label in Course.choices if value in wanted]


def hosts_summary(party: DinnerParty, guests: GuestList) -> dict:
    """The dinner summary, for the hosts' eyes only: the head count, the diets
    and allergies of guests going or waiting, and what guests say they bring."""
    at_table = guests.going + guests.waitlisted
    return {
        "head_count": 1 + party.seats_taken,
        "needs": [
            (r, needs_of_rsvp(r), notes_beyond(r.guest.dietary_notes, needs_of_rsvp(r)[0]))
            for r in at_table
            if r.guest.dietary_notes.strip() or any(n.any for n in needs_of_rsvp(r))
        ],
        "bringing": [r for r in guests.all if r.note.strip() and r.status != "declined"],
    }


def notes_beyond(notes: str, needs: Needs) -> str:
    """A guest's free-text dietary notes without the parts that only repeat their
    ticked diets and allergies ("gluten-free" beside "Gluten-free")."""
    said = {label.lower() for label in needs.diet_labels}
    for code, label in zip(sorted(needs.allergies), needs.allergy_labels, strict=True):
        for name in {label.lower(), allergen_noun(code)}:
            said |= {name, f"no {name}", f"{name} allergy", f"allergic to {name}"}
    parts = [part.strip() for part in re.split(r"[,;\n]", notes)]
    return ", ".join(part for part in parts if part and part.lower().rstrip(".") not in said)


def slot_counts(party: DinnerParty, slots: list[PotluckSlot]) -> dict[str, int]:
    """How many dishes of each course the potluck asks for (a suggestion for
    the party's size before it opens)."""
    if not slots:
        return suggested_slots(1 + party.seats_taken)
    counts: dict[str, int] = {}
    for slot in slots:
        counts[slot.course] = counts.get(slot.course, 0) + 1
    return counts


# --- a member's calendar feed -------------------------------------------------------

# How long a party stays in the feed after it starts.
FEED_PAST = timedelta(days=30)


def feed_token(user) -> str | None:
    """The token of the member's calendar feed, if they have one yet."""
    return CalendarFeed.objects.filter(user_id=user.pk).values_list("token", flat=True).first()


def feed_owner(token: str):
    """The member whose calendar feed this token opens (None for a wrong or
    revoked token): one query."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    return feed.user if feed is not None else None


def feed_parties(user, *, now: datetime) -> list[DinnerParty]:
    """The parties in the member's feed: those they host or co-host and those they
    are going or maybe to, from a month ago to as far ahead as parties are
    planned, with their standing (for `venue_for_viewer`). One query."""
    cohosted = DinnerParty.cohosts.through.objects.filter(user_id=user.pk).values("dinnerparty_id")
    replied = RSVP.objects.filter(
        guest_id=user.pk, status__in=[RSVPStatus.GOING, RSVPStatus.MAYBE]
    ).values("party_id")
    return list(
        DinnerParty.objects.filter(
            Q(host_id=user.pk) | Q(pk__in=cohosted) | Q(pk__in=replied),
            starts_at__gte=now - FEED_PAST,
            starts_at__lte=latest_party_start(now) + FEED_PAST,
        )
        .with_viewer(user)
        .select_related("host")
        .order_by("starts_at", "pk")
    )


# --- the preview, for visitors who are not logged in ---------------------------------


def preview_courses(extras: PartyExtras) -> list[tuple[str, list[str]]]:
    """The menu as a visitor reads it: each course's dishes by name only (not who
    brings them: no guest's name is shown to visitors)."""
    by_course: dict[str, list[str]] = {}
    for dish in extras.dishes:
        by_course.setdefault(dish.course, []).append(dish.name)
    return [(label, by_course[value]) for value, label in Course.choices if value in by_course]


# --- invitations by email, for the hosts -------------------------------------------


INVITATION_STATES = {
    # (label, Bootstrap badge colour)
    "bounced": (_("Email bounced"), "danger"),
    "held": (_("Waiting for your address to be confirmed"), "secondary"),
    "sending": (_("Sending"), "light"),
    "invited": (_("Invited"), "light"),
    "opened": (_("Opened"), "info"),
    RSVPStatus.GOING: (_("Going"), "success"),
    RSVPStatus.MAYBE: (_("Maybe"), "warning"),
    RSVPStatus.DECLINED: (_("Can't go"), "secondary"),
    RSVPStatus.WAITLISTED: (_("Waitlisted"), "warning"),
}


def invitations_for(party: DinnerParty) -> list[Invitation]:
    """The party's invitations in the order they went out, each with `shown` (its
    state as the hosts read it: the invitee's reply if there is one, else whether
    the email bounced, was opened…), in one query."""
    replies = RSVP.objects.filter(
        party=OuterRef("party"), guest__email__iexact=OuterRef("email")
    ).values("status")[:1]
    invitations = list(
        Invitation.objects.filter(party=party)
        .select_related("delivery")
        .annotate(reply_status=Subquery(replies))
        .order_by("created_at", "pk")
    )
    for invitation in invitations:
        if invitation.reply_status:
            state = invitation.reply_status
        elif invitation.delivery and invitation.delivery.status == DeliveryStatus.FAILED:
            state = "bounced"
        elif invitation.state == InvitationState.INVITED and invitation.sent_at is None:
            state = "sending"
        elif invitation.state == InvitationState.REPLIED:
            state = "opened"  # replied, then the reply went (the account was deleted)
        else:
            state = invitation.state
        invitation.shown = INVITATION_STATES[state]
    return invitations


def may_remind(invitations: list[Invitation], now: datetime) -> bool:
    """Whether "remind those who haven't answered" is open: someone is waiting,
    and nobody was reminded in the last day."""
    if any(i.reminded_at and i.reminded_at >= now - REMIND_EVERY for i in invitations):
        return False
    waiting = {str(INVITATION_STATES[state][0]) for state in ("invited", "opened")}
    return any(str(i.shown[0]) in waiting for i in invitations)


PENDING_SHOWN = 10  # pending invitations on the list page


def pending_invitations(user, now: datetime) -> list[dict]:
    """A member's invitations to upcoming parties they haven't answered (at their
    confirmed address only: an unconfirmed one may not be theirs), for the list
    page: read once and cached, dropped by the services that change them. A reply
    made from the party's own page shows here within CARD_TTL."""
    if not (user.email and user.email_confirmed):
        return []
    key = pending_key(user.email)
    found = cache.get(key)
    if found is None:
        replied = RSVP.objects.filter(party=OuterRef("party"), guest_id=user.pk)
        rows = (
            Invitation.objects.alias(address=Lower("email"))
            .filter(
                address=user.email.lower(),
                state__in=[InvitationState.INVITED, InvitationState.OPENED],
                party__starts_at__gte=now,
            )
            .exclude(Exists(replied))
            .select_related("party__host")
            .order_by("party__starts_at", "pk")[:PENDING_SHOWN]
        )
        found = [
            {
                "url": invitation.get_absolute_url(),
                "title": invitation.party.title,
                "when": invitation.party.when,
                "host": invitation.party.host_name,
            }
            for invitation in rows
        ]
        cache.set(key, found, CARD_TTL)
    return found
