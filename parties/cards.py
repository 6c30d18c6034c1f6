"""Party cards (the list page and the landing page), served from the cache.

A page of cards is cached under a key made of everything its cards show, read
by one lean query per page (`parties.queries.LISTING`): each party's id, last change,
seats taken, host's name and what decides which venue the viewer sees. Any
change to a party, its seats or its host's name gives a new key at once, so
nothing has to be invalidated by hand. The parties themselves are loaded only
when their cards are not in the cache (`PageParties`)."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from django.utils import translation

from parties.models import DinnerParty
from parties.queries import CARD_FIELDS

# Cards also say "in 3 days": a cached card is at most this many seconds old.
CARD_TTL = 300


def time_bucket(now: datetime) -> int:
    """Which CARD_TTL-long slice of time `now` falls in: a cache key holding it
    changes as "in 3 days" or "replies close" may change."""
    return int(now.timestamp()) // CARD_TTL


def fragment_key(rows: Iterable[Iterable]) -> str:
    """A digest of everything a cached fragment shows, one tuple per row, and of
    the language it is shown in (every cached page and fragment is translated)."""
    lines = ("|".join(str(value) for value in row) for row in rows)
    text = "\n".join([translation.get_language() or "", *lines])
    return hashlib.sha256(text.encode()).hexdigest()


def cards_key(rows: Iterable[dict], viewer, now: datetime) -> str:
    """One key for a page of cards, from `LISTING` or `PUBLIC_LISTING` rows.

    The venue a card shows depends on the viewer's reply, on whether they host
    or co-host, and on the party's address settings (its `updated_at` changes
    with them); "in 3 days" depends on the time, so the key changes every
    CARD_TTL seconds; "(2:30 pm your time)" on the viewer's zone."""
    viewer_pk = getattr(viewer, "pk", None)
    superuser = bool(getattr(viewer, "is_superuser", False))
    return fragment_key(
        [
            (time_bucket(now), superuser, viewer_zone(viewer)),
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


def viewer_zone(viewer) -> str:
    """The logged-in viewer's time zone ("" for a visitor: theirs isn't known)."""
    return getattr(viewer, "timezone", "") if viewer.is_authenticated else ""


def load_cards(viewer) -> Callable[[list[int]], list[DinnerParty]]:
    """Loads parties for their cards, with the venue each may show `viewer`."""

    def load(ids: list[int]) -> list[DinnerParty]:
        parties = list(
            DinnerParty.objects.filter(pk__in=ids).with_viewer(viewer).select_related("host")
        )
        zone = viewer_zone(viewer)
        for party in parties:
            party.shown_venue = party.venue_for_viewer(viewer)
            party.your_time = party.time_in_zone(zone) if zone else ""
        return parties

    return load
