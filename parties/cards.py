"""Rendered party cards are cached, keyed by everything a card shows, so any
change to a party, its seats, its host's name or what the viewer may see gives
a new key at once — nothing has to be invalidated by hand."""

import hashlib
from collections.abc import Iterable

from parties.models import DinnerParty

# Cards also say "in 3 days": a cached card is at most this many seconds old.
CARD_TTL = 300


def fragment_key(rows: Iterable[Iterable]) -> str:
    """A digest of everything a cached fragment shows, one tuple per row."""
    text = "\n".join("|".join(str(value) for value in row) for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def cards_key(parties: Iterable[DinnerParty]) -> str:
    """One key for a list of cards (after `show_venues` has run on them)."""
    return fragment_key(
        (
            party.pk,
            party.updated_at.timestamp(),
            party.seats_taken,
            party.host_name,
            party.shown_venue,
            party.starts_in,
        )
        for party in parties
    )
