"""Party cards (the list page and the landing page), served from the cache.

A page of cards is cached under a key made of everything its cards show, read
by one lean query per page (`PreparedQuery`): each party's id, last change,
seats taken, host's name and what decides which venue the viewer sees. Any
change to a party, its seats or its host's name gives a new key at once, so
nothing has to be invalidated by hand. The parties themselves are loaded only
when their cards are not in the cache (`PageParties`)."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from django.db.models import BooleanField, ExpressionWrapper, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

from dinnerparty.prepared import PreparedQuery
from parties.models import DinnerParty, Visibility

# Later than any party: where a page "after" a party no one may see starts.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)

# Cards also say "in 3 days": a cached card is at most this many seconds old.
CARD_TTL = 300

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
            Q(starts_at__gte=Greatest(Value(now), Coalesce(anchor, Value(NEVER)))),
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
LISTING = PreparedQuery(_listing, shape=("limit", "offset"), after=0)

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
        has_started=ExpressionWrapper(Q(starts_at__lte=now), output_field=BooleanField())
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
    )


# May the viewer see this party (by id, or by its invite link), how do they stand
# with it, and which version of its page is current: the party page's permission
# check and cache key, in one lean query (`now=` decides whether it has started).
PARTY_ACCESS = PreparedQuery(_party_access, pk=0, invite_token="")


def time_bucket(now: datetime) -> int:
    """Which CARD_TTL-long slice of time `now` falls in: a cache key holding it
    changes as "in 3 days" or "replies close" may change."""
    return int(now.timestamp()) // CARD_TTL


def fragment_key(rows: Iterable[Iterable]) -> str:
    """A digest of everything a cached fragment shows, one tuple per row."""
    text = "\n".join("|".join(str(value) for value in row) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def cards_key(rows: Iterable[dict], viewer, now: datetime) -> str:
    """One key for a page of cards, from `LISTING` or `PUBLIC_LISTING` rows.

    The venue a card shows depends on the viewer's reply, on whether they host
    or co-host, and on the party's address settings (its `updated_at` changes
    with them); "in 3 days" depends on the time, so the key changes every
    CARD_TTL seconds."""
    viewer_pk = getattr(viewer, "pk", None)
    superuser = bool(getattr(viewer, "is_superuser", False))
    return fragment_key(
        [
            (time_bucket(now), superuser),
            *(
                (
                    *(row[name] for name in CARD_FIELDS),
                    row.get("viewer_status"),
                    bool(row.get("viewer_cohosts")),
                    row["host_id"] == viewer_pk,
                )
                for row in rows
            ),
        ]
    )


class PageParties:
    """A page's parties for the template: its length and truth come from the
    listing rows; the parties are loaded (by `load`, in the rows' order) only
    when the template iterates, i.e. when the cards are not cached."""

    def __init__(self, ids: list[int], load: Callable[[list[int]], Iterable[DinnerParty]]):
        self.ids = ids
        self._load = load
        self._parties: list[DinnerParty] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __bool__(self) -> bool:
        return bool(self.ids)

    def __iter__(self) -> Iterator[DinnerParty]:
        return iter(self.parties)

    @property
    def parties(self) -> list[DinnerParty]:
        if self._parties is None:
            found = {party.pk: party for party in self._load(self.ids)}
            self._parties = [found[pk] for pk in self.ids if pk in found]
        return self._parties


def load_cards(viewer) -> Callable[[list[int]], list[DinnerParty]]:
    """Loads parties for their cards, with the venue each may show `viewer`."""

    def load(ids: list[int]) -> list[DinnerParty]:
        parties = list(
            DinnerParty.objects.filter(pk__in=ids).with_viewer(viewer).select_related("host")
        )
        for party in parties:
            party.shown_venue = party.venue_for_viewer(viewer)
        return parties

    return load
