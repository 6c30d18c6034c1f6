from datetime import timedelta

from icalendar import Calendar, Event

from parties.models import DinnerParty

DEFAULT_LENGTH = timedelta(hours=3)


def party_to_ics(party: DinnerParty, *, url: str, location: str) -> bytes:
    """One VEVENT in the party's own zone (with its VTIMEZONE), 3 hours long.
    Never fails on dates at the ends of the calendar: a start whose local date
    is off it is given in UTC, and an end after 9999 as a DURATION."""
    cal = Calendar()
    cal.add("prodid", "-//DinnerParty//dinnerparty//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", f"party-{party.pk}@dinnerparty")
    event.add("summary", party.title)
    start = party.local_starts_at  # in UTC where the local date is off the calendar
    event.add("dtstart", start)
    try:
        event.add("dtend", start + DEFAULT_LENGTH)
    except OverflowError:  # ends after 9999-12-31: RFC 5545's other way to say it
        event.add("duration", DEFAULT_LENGTH)
    event.add("dtstamp", party.updated_at)
    event.add("location", location)
    description = f"Hosted by {party.host_name}. On the menu: {party.main_dish}."
    if party.description:
        description += f"\n\n{party.description}"
    event.add("description", f"{description}\n\n{url}")
    event.add("url", url)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
