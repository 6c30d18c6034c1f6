"""iCalendar files: one party's (its page's download, and the part the emails
carry so calendars add, move and cancel the entry), and a member's feed.

Calendars match an entry by its UID, stable for the party's life, and take a
copy whose SEQUENCE is higher as the newer one: `DinnerParty.sequence` moves
on with every change of time or place (services.party_update)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from parties.models import DEFAULT_LENGTH, DinnerParty, local_time

# How far either side of the parties' dates the VTIMEZONEs describe the zone's
# rules (icalendar's default window ends in 2038).
ZONE_MARGIN = timedelta(days=366)

# icalendar walks the zone's rules in steps of up to 64 days past `last_date`:
# the last date it can be asked for without leaving the calendar.
LAST_ZONE_DATE = date(9999, 8, 1)

REQUEST, CANCEL = "REQUEST", "CANCEL"


@dataclass(frozen=True)
class CalendarEntry:
    """A party as one person's calendar shows it: the place as they may see it."""

    party: DinnerParty
    url: str
    location: str
    cancelled: bool = False
    # The person an emailed invitation is for: (address, name, PARTSTAT).
    attendee: tuple[str, str, str] | None = None


def organizer() -> tuple[str, str]:
    """The site's sender address, and its display name (ORGANIZER)."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return name or "DinnerParty", address


def party_event(entry: CalendarEntry) -> Event:
    """One VEVENT in the party's own zone. Never fails on dates at the ends of the
    calendar: a start whose local date is off it is given in UTC, and an end after
    9999 as a DURATION."""
    party = entry.party
    event = Event()
    event.add("uid", f"party-{party.pk}@dinnerparty")
    event.add("sequence", party.sequence)
    event.add("summary", party.title)
    start = party.local_starts_at  # in UTC where the local date is off the calendar
    event.add("dtstart", start)
    length = party.ends_at - party.starts_at if party.ends_at else DEFAULT_LENGTH
    try:
        event.add("dtend", start + length)
    except OverflowError:  # ends after 9999-12-31: RFC 5545's other way to say it
        event.add("duration", length)
    # When this copy was made: a cancellation is made now (the party is going).
    stamp = datetime.now(UTC) if entry.cancelled else party.updated_at
    event.add("dtstamp", stamp or datetime.now(UTC))
    event.add("location", entry.location)
    # The text is in the active language (the recipient's, or the feed owner's);
    # the protocol fields are not translated.
    description = gettext("Hosted by %(host)s. On the menu: %(main_dish)s.") % {
        "host": party.host_name,
        "main_dish": party.main_dish,
    }
    if party.description:
        description += f"\n\n{party.description}"
    event.add("description", f"{description}\n\n{entry.url}")
    event.add("url", entry.url)
    _, address = organizer()
    person = vCalAddress(f"mailto:{address}")
    person.params["cn"] = vText(party.host_name)
    event.add("organizer", person)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    if entry.attendee:
        address, name, partstat = entry.attendee
        guest = vCalAddress(f"mailto:{address}")
        guest.params["cn"] = vText(name)
        guest.params["partstat"] = vText(partstat)
        guest.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", guest)
    return event


def zone_window(parties: Iterable[DinnerParty]) -> tuple[date, date]:
    """The dates the VTIMEZONEs must cover: the parties' local dates, with a margin."""
    starts = [local_time(party.starts_at, party.zone).replace(tzinfo=None) for party in parties]
    if not starts:
        return date(2000, 1, 1), date(2000, 1, 2)
    first, last = min(starts), max(starts)
    try:
        first_date = (first - ZONE_MARGIN).date()
    except OverflowError:
        first_date = date(1, 1, 2)
    try:
        last_date = min((last + ZONE_MARGIN).date(), LAST_ZONE_DATE)
    except OverflowError:
        last_date = LAST_ZONE_DATE
    return min(first_date, last_date - timedelta(days=1)), last_date


def to_ics(entries: list[CalendarEntry], *, method: str | None = None, name: str = "") -> bytes:
    """A calendar of these entries, with the VTIMEZONEs they use for their dates
    (whatever the year). `method` (REQUEST or CANCEL) makes it an invitation an
    email carries (RFC 6047)."""
    cal = Calendar()
    cal.add("prodid", "-//DinnerParty//dinnerparty//EN")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for entry in entries:
        cal.add_component(party_event(entry))
    first_date, last_date = zone_window(entry.party for entry in entries)
    cal.add_missing_timezones(first_date=first_date, last_date=last_date)
    return cal.to_ical()


def party_to_ics(
    party: DinnerParty,
    *,
    url: str,
    location: str,
    method: str | None = None,
    cancelled: bool = False,
    attendee: tuple[str, str, str] | None = None,
) -> bytes:
    """One party's .ics (see `to_ics`)."""
    entry = CalendarEntry(
        party=party, url=url, location=location, cancelled=cancelled, attendee=attendee
    )
    return to_ics([entry], method=method)
