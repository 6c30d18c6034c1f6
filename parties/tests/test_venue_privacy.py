"""Venue privacy, "reveal the address only to guests at the table": everyone
else, the waitlist included, sees only the rough area — on the party page, the
list, the landing page, the .ics and in every email — until their reply is
"going". Pages are checked as markup (attributes included), not just as text."""

import html
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import DinnerParty, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import client_for, going, page_text, spaced_text

pytestmark = pytest.mark.django_db

VENUE = "Wiener Strasse 14, 10999 Berlin (back courtyard)"
AREA = "Kreuzberg, Berlin"
# Any of these in what a guest receives would give the address away.
SECRETS = ("Wiener Strasse", "10999", "back courtyard")
NEW_VENUE = "Skalitzer Strasse 99, 10997 Berlin"


def assert_hidden(text: str, where: str = "", *, area: bool = True) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in the {where}"
    if area:
        assert AREA in text, f"no area in the {where}"


def assert_shown(text: str, where: str = "") -> None:
    assert VENUE in text, f"no address in the {where}"


def calendar_location(client, party: DinnerParty, token: str = "") -> tuple[str, str]:
    """The .ics's LOCATION, and the whole file as text."""
    url = reverse("parties:calendar", args=[party.pk])
    response = client.get(url, {"invite": token} if token else {})
    assert response.status_code == 200
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    # Unfolded and unescaped, so an address split over lines would still be found.
    text = response.content.decode().replace("\r\n ", "").replace("\\,", ",")
    return str(event["LOCATION"]), text.replace("\\;", ";").replace("\\\\", "\\")


def email_text(message: EmailMultiAlternatives) -> str:
    """Subject, plain-text body and HTML body of one email."""
    alternatives = "".join(content for content, _mimetype in message.alternatives)
    return f"{message.subject}\n{message.body}\n{html.unescape(alternatives)}"


def emails_to(mailoutbox, user) -> list[EmailMultiAlternatives]:
    return [message for message in mailoutbox if user.email in message.to]


def markup(response) -> str:
    """The whole page, tags and attributes included, with entities decoded."""
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def everything_seen_by(client, party: DinnerParty, token: str = "") -> dict[str, str]:
    """What the viewer reads about the venue on every page that shows it."""
    page = client.get(
        reverse("parties:invite", args=[token]) if token else party.get_absolute_url()
    )
    location, ics = calendar_location(client, party, token)
    return {
        "party page": markup(page),
        "parties list": markup(client.get(reverse("parties:list"))),
        "ics LOCATION": location,
        "ics file": ics,
    }


@pytest.fixture
def seated(db):
    return UserFactory(username="seated", first_name="Sam")


@pytest.fixture
def hidden_party(host, seated):
    """A public party with its address hidden, one seat, taken."""
    party = DinnerPartyFactory(
        host=host,
        title="Potluck under the stars",
        venue=VENUE,
        area=AREA,
        hide_address=True,
        seats=1,
    )
    going(party, seated)
    return party


@pytest.fixture
def waitlisted(hidden_party, guest):
    outcome = services.rsvp_submit(party=hidden_party, guest=guest, status=RSVPStatus.GOING)
    assert outcome.status == RSVPStatus.WAITLISTED
    return guest


# --- The waitlist sees only the area ---------------------------------------------------


def test_a_waitlisted_guest_sees_only_the_area_on_every_page(hidden_party, waitlisted):
    client = client_for(waitlisted)

    seen = everything_seen_by(client, hidden_party)

    for where, text in seen.items():
        assert_hidden(text, where)
    assert seen["ics LOCATION"] == AREA
    landing = markup(client.get(reverse("home")))
    assert hidden_party.title in landing
    assert_hidden(landing)


def test_the_waitlisted_guests_page_shows_the_area_where_the_venue_goes(hidden_party, waitlisted):
    response = client_for(waitlisted).get(hidden_party.get_absolute_url())

    assert f"Where {AREA} Main dish" in spaced_text(response)
    assert "you're #1 on the waitlist" in page_text(response)


def test_a_waitlisted_guests_confirmation_shows_only_the_area(
    committing, mailoutbox, hidden_party, guest, guest_client, host
):
    with committing():
        response = guest_client.post(
            reverse("parties:rsvp", args=[hidden_party.pk]), {"status": "going", "plus_ones": 0}
        )

    assert response.status_code == 302
    (confirmation,) = emails_to(mailoutbox, guest)
    assert "you're on the waitlist" in confirmation.body
    assert_hidden(email_text(confirmation))
    assert f"Where: {AREA}" in confirmation.body


@pytest.mark.parametrize("status", ["maybe", "declined"])
def test_maybe_and_declined_confirmations_show_only_the_area(
    committing, mailoutbox, hidden_party, guest, status
):
    with committing():
        services.rsvp_submit(party=hidden_party, guest=guest, status=status)

    (confirmation,) = emails_to(mailoutbox, guest)
    assert_hidden(email_text(confirmation))


def test_the_party_changed_email_to_the_waitlist_shows_only_the_area(
    committing, mailoutbox, hidden_party, waitlisted, seated
):
    with committing():
        services.party_update(
            party=hidden_party, changes={"starts_at": hidden_party.starts_at + timedelta(hours=1)}
        )

    (changed,) = emails_to(mailoutbox, waitlisted)
    assert "New time for" in changed.subject
    assert_hidden(email_text(changed))
    assert f"Where: {AREA}" in changed.body
    (to_the_table,) = emails_to(mailoutbox, seated)
    assert f"Where: {VENUE}" in to_the_table.body


def test_a_new_address_is_not_emailed_to_the_waitlist(
    committing, mailoutbox, hidden_party, waitlisted, seated
):
    with committing():
        services.party_update(party=hidden_party, changes={"venue": NEW_VENUE})

    (changed,) = emails_to(mailoutbox, waitlisted)
    assert "New place for" in changed.subject
    text = email_text(changed)
    assert "Skalitzer" not in text
    assert "10997" not in text
    assert AREA in text
    (to_the_table,) = emails_to(mailoutbox, seated)
    assert f"Where: was {VENUE}\n       now {NEW_VENUE}" in to_the_table.body


@pytest.mark.parametrize("audience", ["waitlisted", "all"])
def test_a_message_to_the_waitlist_does_not_give_the_address_away(
    committing, mailoutbox, hidden_party, waitlisted, host, audience
):
    with committing():
        services.announce(
            party=hidden_party, author=host, audience=audience, text="Bring a jumper!"
        )

    (message,) = emails_to(mailoutbox, waitlisted)
    assert "Bring a jumper!" in message.body
    # The message names no place at all: no address, and so no area either.
    assert_hidden(email_text(message), area=False)


def test_others_who_are_not_at_the_table_see_only_the_area(hidden_party, waitlisted):
    maybe = UserFactory()
    services.rsvp_submit(party=hidden_party, guest=maybe, status="maybe")
    declined = UserFactory()
    services.rsvp_submit(party=hidden_party, guest=declined, status="declined")

    for user in (maybe, declined, UserFactory()):  # the last has not replied at all
        for where, text in everything_seen_by(client_for(user), hidden_party).items():
            assert_hidden(text, f"{where} of {user}")
    assert_hidden(markup(client_for(UserFactory()).get(reverse("home"))))


def test_anonymous_visitors_see_only_the_area_on_the_landing_page(client, hidden_party):
    landing = markup(client.get(reverse("home")))

    assert hidden_party.title in landing
    assert_hidden(landing)


def test_without_an_area_the_page_says_the_address_is_shared_later(hidden_party, waitlisted):
    hidden_party.area = ""
    hidden_party.save()

    text = spaced_text(client_for(waitlisted).get(hidden_party.get_absolute_url()))

    assert "Where Address shared with guests at the table" in text
    assert_hidden(text, area=False)


# --- Those at the table see the address ---------------------------------------------------


def test_once_promoted_the_guest_sees_the_address_everywhere(
    committing, mailoutbox, hidden_party, waitlisted, seated
):
    with committing():
        services.rsvp_submit(party=hidden_party, guest=seated, status="declined")

    (promoted,) = emails_to(mailoutbox, waitlisted)
    assert "off the waitlist" in promoted.subject
    assert f"Where: {VENUE}" in promoted.body
    client = client_for(waitlisted)
    seen = everything_seen_by(client, hidden_party)
    for where, text in seen.items():
        assert_shown(text, where)
    assert seen["ics LOCATION"] == VENUE
    assert_shown(markup(client.get(reverse("home"))))


def test_a_going_guest_sees_the_address_everywhere(committing, mailoutbox, host, seated):
    party = DinnerPartyFactory(
        host=host, venue=VENUE, area=AREA, hide_address=True, seats=3, title="Supper"
    )
    client = client_for(seated)
    with committing():
        response = client.post(
            reverse("parties:rsvp", args=[party.pk]), {"status": "going", "plus_ones": 0}
        )
    assert response.status_code == 302

    for where, text in everything_seen_by(client, party).items():
        assert_shown(text, where)
    assert_shown(markup(client.get(reverse("home"))))
    (confirmation,) = emails_to(mailoutbox, seated)
    assert f"Where: {VENUE}" in confirmation.body
    mailoutbox.clear()
    with committing():
        services.party_update(party=party, changes={"starts_at": party.starts_at + timedelta(1)})
    (changed,) = emails_to(mailoutbox, seated)
    assert f"Where: {VENUE}" in changed.body


def test_the_host_sees_the_address_everywhere(hidden_party, host_client):
    seen = everything_seen_by(host_client, hidden_party)

    for where, text in seen.items():
        assert_shown(text, where)
    assert_shown(markup(host_client.get(reverse("home"))))


def test_a_cohost_sees_the_address_everywhere(hidden_party):
    cohost = UserFactory()
    hidden_party.cohosts.add(cohost)
    client = client_for(cohost)

    for where, text in everything_seen_by(client, hidden_party).items():
        assert_shown(text, where)
    assert_shown(markup(client.get(reverse("home"))))


def test_a_cohost_who_replied_maybe_is_emailed_the_address(committing, mailoutbox, hidden_party):
    cohost = UserFactory()
    hidden_party.cohosts.add(cohost)

    with committing():
        services.rsvp_submit(party=hidden_party, guest=cohost, status="maybe")
        services.party_update(
            party=hidden_party, changes={"starts_at": hidden_party.starts_at + timedelta(1)}
        )

    confirmation, changed = emails_to(mailoutbox, cohost)
    assert f"Where: {VENUE}" in confirmation.body
    assert f"Where: {VENUE}" in changed.body


def test_an_address_shown_to_everyone_is_shown_to_the_waitlist(hidden_party, waitlisted):
    hidden_party.hide_address = False
    hidden_party.save()

    for where, text in everything_seen_by(client_for(waitlisted), hidden_party).items():
        assert_shown(text, where)


# --- The option in the party form ---------------------------------------------------------


def party_form(**overrides) -> dict[str, str]:
    return {
        "title": "Secret supper",
        "starts_at": "2030-12-12T19:00",
        "timezone": "Europe/Berlin",
        "venue": VENUE,
        "area": AREA,
        "main_dish": "Käsespätzle",
        "seats": "1",
        "description": "",
        "visibility": "private",
        "address_shown_to": "auto",
    } | overrides


@pytest.mark.parametrize(
    ("visibility", "shown_to", "hidden"),
    [
        ("private", "auto", True),
        ("private", None, True),  # not sent at all: the default
        ("public", "auto", False),
        ("public", "table", True),
        ("private", "everyone", False),
    ],
)
def test_who_sees_the_address_defaults_to_the_table_for_private_parties(
    host_client, visibility, shown_to, hidden
):
    data = party_form(visibility=visibility, address_shown_to=shown_to)
    if shown_to is None:
        del data["address_shown_to"]

    response = host_client.post(reverse("parties:create"), data)

    assert response.status_code == 302
    party = DinnerParty.objects.get()
    assert party.hide_address is hidden
    assert party.area == AREA


def test_the_create_form_starts_on_auto(host_client):
    form = host_client.get(reverse("parties:create")).context["form"]

    assert form["address_shown_to"].value() == "auto"


def test_a_private_party_made_with_the_defaults_hides_the_address_from_its_waitlist(
    committing, mailoutbox, host_client, seated, guest
):
    host_client.post(reverse("parties:create"), party_form())
    party = DinnerParty.objects.get()
    assert party.visibility == Visibility.PRIVATE
    token = party.invite_token
    client = client_for(seated)
    client.post(
        reverse("parties:rsvp", args=[party.pk]),
        {"status": "going", "plus_ones": 0, "invite": token},
    )
    assert party.rsvps.get().status == RSVPStatus.GOING

    guest_client = client_for(guest)
    invite_page = guest_client.get(reverse("parties:invite", args=[token]))
    assert_hidden(markup(invite_page))  # before replying, too
    with committing():
        response = guest_client.post(
            reverse("parties:rsvp", args=[party.pk]),
            {"status": "going", "plus_ones": 0, "invite": token},
        )
    assert response.status_code == 302
    assert party.rsvps.get(guest=guest).status == RSVPStatus.WAITLISTED

    seen = everything_seen_by(guest_client, party, token)
    seen["party page (own link)"] = markup(guest_client.get(party.get_absolute_url()))
    for where, text in seen.items():
        assert_hidden(text, where)
    assert seen["ics LOCATION"] == AREA
    (confirmation,) = emails_to(mailoutbox, guest)
    assert_hidden(email_text(confirmation))
    # The guest at the table, though, has the address.
    assert_shown(markup(client.get(party.get_absolute_url())))


def test_the_edit_form_shows_the_choice_made(host, host_client):
    party = DinnerPartyFactory(host=host, hide_address=True, area=AREA)

    form = host_client.get(reverse("parties:update", args=[party.pk])).context["form"]

    assert form["address_shown_to"].value() == "table"
