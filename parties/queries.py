"""The parties reads and writes that every page view or reply repeats, compiled
once per process by `compiled_queries` (plain ORM with COMPILED_QUERIES=0).

Each is written as an ORM queryset; only the compiling is skipped. The rules
themselves stay in `DinnerPartyQuerySet` (`visible_to`, `with_viewer`, …).
"""

from datetime import UTC, datetime

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Lower, Now
from django_tasks_db.models import DBTaskResult

from accounts.models import User, accounts_with_address, unconfirmed_too_long
from common.sql import constant
from compiled_queries.prepared import (
    PreparedDelete,
    PreparedInsert,
    PreparedObjects,
    PreparedQuery,
    PreparedSave,
    PreparedUpdate,
)
from parties.models import RSVP, DinnerParty, Dish, PendingReply, RSVPStatus, Visibility

# Later than any party: where a page "after" a party no one may see starts.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)

# What a card's cache key is made of, besides the viewer's facts and the time.
CARD_FIELDS = (
    "pk",
    "updated_at",
    "seats_taken",
    "hide_address",
    "host_id",
    "host__first_name",
    "host__username",
)


def _listing(viewer, now, limit: int, offset: int, *, after: int = 0, public_only: bool = False):
    """A page of upcoming parties the viewer may see, soonest first, with their
    reply to each. The page's ids come first, from the listing index alone (for
    page 50 that is a thousand index entries, not a thousand parties with their
    hosts and the viewer's replies); only its own rows are read in full.

    `after` (a party's id) starts the page just after that party instead of at
    `offset` (keyset paging: page 50 reached by "Next" costs what page 1 does).
    The party must be one the viewer may see, or the page is empty: a link
    can't be used to learn when someone else's private party is."""
    if after:
        anchor = Subquery(
            DinnerParty.objects.visible_to(viewer).filter(pk=after).values("starts_at")[:1]
        )
        # (starts_at, id) after the anchor's, and upcoming. One lower bound on
        # starts_at, so the listing index seeks straight to it (SQLite uses one
        # range condition per column); no anchor, no rows.
        parties = DinnerParty.objects.filter(
            Q(starts_at__gte=Greatest(now, Coalesce(anchor, Value(NEVER)))),
            Q(starts_at__gt=anchor) | Q(pk__gt=after),
        )
    else:
        parties = DinnerParty.objects.upcoming(now)
    if public_only:
        parties = parties.filter(visibility=Visibility.PUBLIC)
    else:
        parties = parties.visible_to(viewer)
    page = parties.order_by("starts_at", "pk").values("pk")[offset : offset + limit]
    return (
        DinnerParty.objects.filter(pk__in=page)
        .with_viewer(viewer)
        .order_by("starts_at", "pk")
        .values(*CARD_FIELDS, "viewer_status", "viewer_cohosts")
    )


# The party list: upcoming parties the viewer may see (from an offset, or after
# a party: see `_listing`).
LISTING = PreparedQuery(_listing, shape=("limit", "offset"), after=int)

# The landing page: upcoming public parties. A visitor who is not logged in has
# no id, so no reply and no co-hosting match.
PUBLIC_LISTING = PreparedQuery(
    lambda viewer, now, limit, offset: _listing(viewer, now, limit, offset, public_only=True),
    shape=("limit", "offset"),
)


def _party_access(viewer, now, pk: int, invite_token: str):
    parties = DinnerParty.objects.visible_to(viewer, invite_token=invite_token).with_viewer(viewer)
    parties = parties.filter(pk=pk) if pk else parties.filter(invite_token=invite_token)
    return parties.annotate(
        has_started=ExpressionWrapper(Q(starts_at__lte=now), output_field=BooleanField()),
        replies_closed=ExpressionWrapper(Q(reply_by__lte=now), output_field=BooleanField()),
    ).values(
        "pk",
        "invite_token",
        "viewer_status",
        "viewer_cohosts",
        # What else a guest's cached party page is keyed by (PartyDetailView).
        "host_id",
        "updated_at",
        "version",
        "has_started",
        "replies_closed",
    )


# May the viewer see this party (by id, or by its invite link), how do they stand
# with it, and which version of its page is current: the party page's permission
# check and cache key, in one lean query (`now=` decides whether it has started).
PARTY_ACCESS = PreparedQuery(_party_access, pk=int, invite_token=str)


# The statements every reply runs.
LOCKED_PARTY = PreparedObjects(
    lambda pk: (
        DinnerParty.objects.select_for_update(of=("self",)).select_related("host").filter(pk=pk)
    ),
    pk=int,
)


# What a reply reads of its party and host (the rules, the seats, its messages and
# emails); the rest (the description, the host's account data) is not loaded.
REPLY_READS = (
    "host__first_name",
    "host__last_name",  # the emails greet a host without a first name by it
    "host__username",
    "host__email",
    "host__email_confirmed_at",  # whether the host may be emailed (notifications.address_of)
    "host__language",  # the language the host is emailed in (notifications.language_of)
    "title",
    "starts_at",
    "reply_by",  # new replies close then (services.rsvp_refusal)
    "timezone",
    "venue",
    "area",
    "hide_address",
    "potluck",
    "main_dish",
    "seats",
    "seats_taken",
    "invite_token",
)


def _visible_locked(pk: int, guest_id: int, invite_token: str = ""):
    guest = User(pk=guest_id)  # a member: superusers see every party (LOCKED_PARTY)
    return (
        DinnerParty.objects.visible_to(guest, invite_token=invite_token)
        .select_for_update(of=("self",))
        .select_related("host")
        .only(*REPLY_READS)
        .filter(pk=pk)
    )


# The party under its lock only if the guest may see it (by its rules, or by the
# invite link they came with): the permission check and the lock in one read.
VISIBLE_LOCKED_PARTY = PreparedObjects(
    lambda pk, guest_id: _visible_locked(pk, guest_id), pk=int, guest_id=int
)
VISIBLE_LOCKED_PARTY_BY_LINK = PreparedObjects(
    lambda pk, guest_id, invite_token: _visible_locked(pk, guest_id, invite_token),
    pk=int,
    guest_id=int,
    invite_token=str,
)
SEATS_AND_VERSION = PreparedUpdate(
    lambda pk, seats, version: (
        DinnerParty.objects.filter(pk=pk),
        {"seats_taken": F("seats_taken") + seats, "version": F("version") + version},
    ),
    pk=int,
    seats=int,
    version=int,
)
WAITLIST = PreparedObjects(
    lambda party_id: RSVP.objects.filter(party_id=party_id, status=RSVPStatus.WAITLISTED).order_by(
        "waitlisted_at", "pk"
    ),
    party_id=int,
)

# How many waitlisted replies are ahead of one (services.waitlist_position): those
# waitlisted before it, and those at the same instant with a lower id.
WAITLIST_AHEAD = PreparedQuery(
    lambda viewer, now, party_id, waitlisted_at, pk: (
        RSVP.objects.filter(
            Q(waitlisted_at__lt=waitlisted_at) | Q(waitlisted_at=waitlisted_at, pk__lt=pk),
            party_id=party_id,
            status=RSVPStatus.WAITLISTED,
        )
        .order_by()
        .values("party_id")
        .annotate(ahead=Count("pk"))
    ),
    party_id=int,
    waitlisted_at=datetime,
    pk=int,
)


def claims_of(party_id: int, guest_ids: list[int]):
    """The potluck dishes these guests claimed (slots they fill) at this party."""
    return Dish.objects.filter(party_id=party_id, added_by_id__in=guest_ids, slot__isnull=False)


RELEASED_CLAIMS = PreparedDelete(
    lambda party_id, guest_id: Dish.objects.filter(
        party_id=party_id, added_by_id=guest_id, slot__isnull=False
    ),
    party_id=int,
    guest_id=int,
)
SAVE_REPLY = PreparedSave(RSVP)


def _reply(party_id: int, guest_id: int):
    """A guest's reply to a party (one at most: rsvp_one_per_guest_per_party)."""
    return RSVP.objects.filter(party_id=party_id, guest_id=guest_id)


REPLY = PreparedObjects(_reply, party_id=int, guest_id=int)
# ... as a reply reads it, under the party's lock: with whether anyone at the
# party is waitlisted (`anyone_waiting`), so a reply that gives seats back reads
# the waitlist only when someone is on it (services.promote_waitlist). The status
# is written into the SQL (`constant`), so a prepared statement's plan looks it
# up in the party's (party, status) index, not among all of the party's replies.
REPLY_UNDER_LOCK = PreparedObjects(
    lambda party_id, guest_id: _reply(party_id, guest_id).annotate(
        anyone_waiting=Exists(
            RSVP.objects.filter(
                party_id=party_id, status=constant(RSVPStatus.WAITLISTED)
            ).order_by()
        )
    ),
    party_id=int,
    guest_id=int,
)


# A reply waiting for its emailed link, read once, under its lock, when the link
# is opened (services.guest_reply_confirm: is it used, expired, whose address).
LOCKED_PENDING_REPLY = PreparedObjects(
    lambda pk, party_id: (
        PendingReply.objects.select_for_update().filter(pk=pk, party_id=party_id).order_by()
    ),
    pk=int,
    party_id=int,
)

# ... and marked used, in the same transaction (the database's clock: single use
# needs only that it is set).
PENDING_REPLY_USED = PreparedUpdate(
    lambda pk: (PendingReply.objects.filter(pk=pk), {"used_at": Now()}), pk=int
)

# How many usernames a guest account may try before a random ending (services):
# few enough that PostgreSQL looks each up in the index rather than reading every
# account (it did with twenty, from about 2,000 accounts on).
USERNAME_CHOICES = 10
USERNAME_INPUTS = tuple(f"username{number}" for number in range(USERNAME_CHOICES))


def _address_and_usernames(viewer, now, email, joined_before, **usernames):
    """The accounts whose address is `email` (in any letter case, as the unique
    constraint on Lower("email") compares them) or whose username is one of
    `usernames` (lower case), each with whether the address counts as theirs
    (not left unconfirmed too long: `unconfirmed_too_long`).

    Two lookups in one statement (UNION), each by its own unique index
    (Lower("email") where there is one, Lower("username")): as one filter joined
    by OR, PostgreSQL read every account instead."""
    columns = ("pk", "lowered", "owns_address")
    by_address = (
        accounts_with_address(email)
        .annotate(
            lowered=Lower("username"),
            owns_address=ExpressionWrapper(
                ~unconfirmed_too_long(joined_before=joined_before), output_field=BooleanField()
            ),
        )
        .order_by()
        .values(*columns)
    )
    by_username = (
        User.objects.annotate(lowered=Lower("username"), owns_address=Value(False))
        .filter(lowered__in=list(usernames.values()))
        .order_by()
        .values(*columns)
    )
    return by_address.union(by_username, all=True).order_by("pk")


# A guest account's reply: whose is the address, and which usernames are taken,
# in one query (services.guest_reply_confirm, services.invitation_reply).
ADDRESS_AND_USERNAMES = PreparedQuery(
    _address_and_usernames,
    email=str,
    joined_before=datetime,
    **dict.fromkeys(USERNAME_INPUTS, str),
)


# A guest account, made by a reply's link (services._new_guest_account), and a
# guest's first reply to a party (services.rsvp_submit): new rows, their keys
# returned by the INSERT.
NEW_ACCOUNT = PreparedInsert(User)
NEW_REPLY = PreparedInsert(RSVP)


# The queue's row for each email a reply sends (parties.task_backend), written in
# the reply's transaction.
QUEUED_TASK = PreparedInsert(DBTaskResult)
# A party with its host, as the worker's emails load it (e.g. for a calendar part).
PARTY_WITH_HOST = PreparedObjects(
    lambda pk: DinnerParty.objects.select_related("host").filter(pk=pk), pk=int
)
