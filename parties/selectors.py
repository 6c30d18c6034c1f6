"""What the party pages read, and the keys their cached copies are kept under.

Plain functions and small classes over what the views load; the views call
them and render (writes are in services.py). Every key here is made of what a
page or fragment shows, so a change gives a new key and nothing has to be
invalidated by hand."""

from datetime import datetime

from parties.cards import fragment_key, time_bucket
from parties.models import RSVP, DinnerParty
from parties.pagination import LookaheadPage

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
    have closed, and "in 3 days" (the time bucket)."""
    return (
        (access["pk"], str(access["updated_at"]), access["version"], invite_token),
        access["viewer_status"],
        bool(access["has_started"]),
        time_bucket(now),
    )


def guest_list_key(party: DinnerParty, *, is_host: bool) -> str:
    """The guest list fragment: the party's replies (and guests' names) move its
    version on; the host is not invited to "be the first to say you're coming"."""
    return fragment_key([(party.pk, party.version, is_host, party.has_started)])


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
