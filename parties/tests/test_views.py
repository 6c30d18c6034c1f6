import html
import re
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.messages import ERROR, get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from accounts.tests.factories import UserFactory
from parties import services
from parties.models import RSVP, DinnerParty, Dish, Notice, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory, RSVPFactory
from parties.tests.helpers import (
    assert_seats_consistent,
    client_for,
    flash_messages,
    going,
    page_text,
)

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'
XSS_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


def party_data(**overrides) -> dict[str, str]:
    data = {
        "title": "Cassoulet night",
        "starts_at": "2030-12-12T19:00",
        "timezone": "Europe/Paris",
        "venue": "Rue des Martyrs 8, Paris",
        "main_dish": "Cassoulet",
        "seats": "6",
        "description": "Bring good company.",
        "visibility": "public",
    }
    data.update(overrides)
    return data


def edit_data(party: DinnerParty, **overrides) -> dict[str, str]:
    return (
        party_data(
            title=party.title,
            starts_at=party.local_starts_at.strftime("%Y-%m-%dT%H:%M"),
            timezone=party.timezone,
            venue=party.venue,
            main_dish=party.main_dish,
            seats=str(party.seats),
            description=party.description,
            visibility=party.visibility,
        )
        | overrides
    )


def rsvp_url(party) -> str:
    return reverse("parties:rsvp", args=[party.pk])


# --- the login wall -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("parties:list", []),
        ("parties:create", []),
        ("parties:detail", [1]),
        ("parties:update", [1]),
        ("parties:delete", [1]),
        ("parties:calendar", [1]),
    ],
)
def test_anonymous_users_are_sent_to_log_in(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_rsvp_changes_nothing(client, party):
    response = client.post(rsvp_url(party), {"status": "going", "plus_ones": 0})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert not RSVP.objects.exists()


# --- list ------------------------------------------------------------------------


def test_list_shows_visible_upcoming_parties_soonest_first(guest, guest_client):
    now = timezone.now()
    later = DinnerPartyFactory(title="Later", starts_at=now + timedelta(days=3))
    sooner = DinnerPartyFactory(title="Sooner", starts_at=now + timedelta(days=1))
    mine = DinnerPartyFactory(
        title="Mine", host=guest, visibility="private", starts_at=now + timedelta(days=2)
    )
    DinnerPartyFactory(title="Someone's secret", visibility="private")
    DinnerPartyFactory(title="Yesterday's", starts_at=now - timedelta(days=1))

    response = guest_client.get(reverse("parties:list"))

    assert response.status_code == 200
    assert list(response.context["parties"]) == [sooner, mine, later]
    text = page_text(response)
    assert "Someone's secret" not in text
    assert "Yesterday's" not in text


def test_list_pages_hold_twenty_parties(guest_client):
    now = timezone.now()
    parties = [DinnerPartyFactory(starts_at=now + timedelta(hours=1 + i)) for i in range(25)]

    first = guest_client.get(reverse("parties:list"))
    second = guest_client.get(reverse("parties:list"), {"page": 2})

    assert list(first.context["parties"]) == parties[:20]
    assert list(second.context["parties"]) == parties[20:]
    # Pages are not counted (COUNT(*) grows with the table): "Next" shows when one follows.
    assert "Page 1" in page_text(first)
    assert "Next" in page_text(first)
    assert "Next" not in page_text(second)
    assert "Previous" in page_text(second)
    assert guest_client.get(reverse("parties:list"), {"page": 3}).status_code == 404
    assert guest_client.get(reverse("parties:list"), {"page": "abc"}).status_code == 404
    assert guest_client.get(reverse("parties:list"), {"page": "0"}).status_code == 404


def titles_on(response, parties) -> list[str]:
    """Which of `parties` the page shows, in its order (also for a page served
    from the cache, which has no context)."""
    text = page_text(response)
    found = {party.title: text.find(f"{party.title} ") for party in parties}
    return sorted((t for t, at in found.items() if at >= 0), key=found.__getitem__)


def next_link(response) -> str:
    found = re.search(r'href="(\?page=\d+&amp;after=\d+)">Next<', response.content.decode())
    assert found, "no Next link"
    return html.unescape(found.group(1))


def test_next_links_carry_the_last_card_and_lead_to_the_same_pages(guest_client):
    now = timezone.now()
    parties = [DinnerPartyFactory(starts_at=now + timedelta(hours=1 + i)) for i in range(45)]
    # Two parties at the same time straddle pages 2 and 3: ties go by id.
    parties[39].starts_at = parties[40].starts_at = now + timedelta(days=9)
    DinnerParty.objects.bulk_update(parties[39:41], ["starts_at"])
    parties = list(DinnerParty.objects.order_by("starts_at", "pk"))
    url = reverse("parties:list")

    first = guest_client.get(url)
    assert next_link(first) == f"?page=2&after={parties[19].pk}"
    second = guest_client.get(url + next_link(first))
    third = guest_client.get(url + next_link(second))

    assert list(second.context["parties"]) == parties[20:40]
    assert list(third.context["parties"]) == parties[40:]
    assert "Page 3" in page_text(third)
    # The same page by its number alone, as typed or bookmarked.
    by_number = guest_client.get(url, {"page": 3})
    assert titles_on(by_number, parties) == [party.title for party in parties[40:]]


def test_a_party_added_meanwhile_does_not_repeat_a_card_on_the_next_page(guest_client):
    now = timezone.now()
    parties = [DinnerPartyFactory(starts_at=now + timedelta(hours=1 + i)) for i in range(30)]
    url = reverse("parties:list")
    first = guest_client.get(url)

    DinnerPartyFactory(title="Sooner", starts_at=now + timedelta(minutes=30))
    second = guest_client.get(url + next_link(first))

    assert list(second.context["parties"]) == parties[20:]


@pytest.mark.parametrize(
    "after",
    ["", "x" * 500, "abc", "-5", "1.5", "٣", "1 OR 1=1", "<script>alert(1)</script>", "0"],
)
def test_a_mangled_next_link_still_opens_the_page_by_its_number(guest_client, after):
    now = timezone.now()
    parties = [DinnerPartyFactory(starts_at=now + timedelta(hours=1 + i)) for i in range(25)]

    response = guest_client.get(reverse("parties:list"), {"page": 2, "after": after})

    assert response.status_code == 200
    assert titles_on(response, parties) == [party.title for party in parties[20:]]


def test_a_next_link_after_a_party_gone_or_unseen_opens_the_page_by_its_number(guest_client):
    """A link naming someone else's private party tells nothing about when it is:
    the page is the one its number gives."""
    now = timezone.now()
    parties = [DinnerPartyFactory(starts_at=now + timedelta(hours=1 + i)) for i in range(25)]
    secret = DinnerPartyFactory(visibility="private", starts_at=now + timedelta(hours=24))
    gone = DinnerPartyFactory(starts_at=now + timedelta(hours=3))
    gone_pk = gone.pk
    gone.delete()
    url = reverse("parties:list")

    for after in (secret.pk, gone_pk, 10**12):
        response = guest_client.get(url, {"page": 2, "after": after})
        assert response.status_code == 200
        assert titles_on(response, [*parties, secret]) == [p.title for p in parties[20:]]


def test_list_badges_say_seats_left_or_full(guest_client):
    full = DinnerPartyFactory(title="Full one", seats=1)
    going(full, UserFactory())
    DinnerPartyFactory(title="Roomy", seats=3)
    one_left = DinnerPartyFactory(title="Nearly full", seats=2)
    going(one_left, UserFactory())

    text = page_text(guest_client.get(reverse("parties:list")))

    assert "Full — waitlist open" in text
    assert "3 seats left" in text
    assert "1 seat left" in text
    assert text.count("Full — waitlist open") == 1


def test_list_empty_state(guest_client):
    response = guest_client.get(reverse("parties:list"))
    assert "No upcoming parties yet — host the first one." in page_text(response)


# --- detail --------------------------------------------------------------------


@pytest.fixture
def replies(party):
    """Ana's party for 4 with a guest of each kind."""
    people = {
        name: UserFactory(first_name=name, last_name="Guest", dietary_notes=diet)
        for name, diet in [
            ("Carla", "vegetarian"),
            ("Dan", ""),
            ("Eve", "no nuts"),
            ("Finn", ""),
            ("Gus", "vegan"),
        ]
    }
    services.rsvp_submit(
        party=party, guest=people["Carla"], status="going", plus_ones=2, note="I'll bring wine"
    )
    services.rsvp_submit(party=party, guest=people["Dan"], status="going")
    services.rsvp_submit(party=party, guest=people["Eve"], status="maybe", note="bread?")
    services.rsvp_submit(party=party, guest=people["Finn"], status="going")  # waitlisted
    services.rsvp_submit(party=party, guest=people["Gus"], status="declined", note="sorry")
    return people


def test_detail_groups_the_guest_list(replies, party, guest_client):
    response = guest_client.get(party.get_absolute_url())

    assert response.status_code == 200
    context = response.context
    assert [r.guest.first_name for r in context["guests"].going] == ["Carla", "Dan"]
    assert [r.guest.first_name for r in context["guests"].maybe] == ["Eve"]
    assert [r.guest.first_name for r in context["guests"].waitlisted] == ["Finn"]
    assert [r.guest.first_name for r in context["guests"].declined] == ["Gus"]
    text = page_text(response)
    for heading in ("Going", "Maybe", "Waitlist", "Can't go"):
        assert heading in text
    assert "Carla Guest +2" in text
    assert "Full — waitlist open" in text


def test_the_host_sees_invite_link_tools_and_dinner_summary(replies, party, host_client):
    response = host_client.get(party.get_absolute_url())

    markup = response.content.decode()
    assert f'value="http://testserver/parties/invite/{party.invite_token}/"' in markup
    assert f'href="{reverse("parties:update", args=[party.pk])}"' in markup
    assert f'href="{reverse("parties:delete", args=[party.pk])}"' in markup
    assert f'action="{reverse("parties:regenerate_invite", args=[party.pk])}"' in markup
    text = page_text(response)
    assert "Dinner summary" in text
    assert "Head count: 5" in text  # the host + Carla and 2 + Dan
    assert "Carla Guest: vegetarian" in text
    assert "Gus Guest: vegan" not in text  # declined guests' diets don't matter
    assert "Carla Guest: I'll bring wine" in text
    assert "Eve Guest: bread?" in text
    assert "rsvp_form" not in response.context


def test_a_guest_sees_the_rsvp_form_and_no_host_tools(replies, party, guest_client):
    response = guest_client.get(party.get_absolute_url())

    markup = response.content.decode()
    assert "rsvp_form" in response.context
    assert f'action="{rsvp_url(party)}"' in markup
    assert party.invite_token not in markup
    assert reverse("parties:update", args=[party.pk]) not in markup
    assert "Dinner summary" not in markup
    assert "Carla Guest: vegetarian" not in page_text(response)


def test_a_waitlisted_guest_sees_their_place(replies, party):
    response = client_for(replies["Finn"]).get(party.get_absolute_url())
    assert "you're #1 on the waitlist" in page_text(response)


def test_a_started_party_takes_no_replies(guest_client):
    party = DinnerPartyFactory(starts_at=timezone.now() - timedelta(hours=1))
    response = guest_client.get(party.get_absolute_url())
    assert "rsvp_form" not in response.context
    assert "replies are closed" in page_text(response)


# --- private parties and invite links ------------------------------------------------


@pytest.fixture
def private_party(host):
    return DinnerPartyFactory(host=host, title="Secret supper", visibility=Visibility.PRIVATE)


def test_a_private_party_is_404_to_outsiders(private_party, guest_client):
    for url in (
        private_party.get_absolute_url(),
        reverse("parties:calendar", args=[private_party.pk]),
    ):
        assert guest_client.get(url).status_code == 404
    assert "Secret supper" not in page_text(guest_client.get(reverse("parties:list")))


def test_a_private_party_opens_with_its_invite_link(private_party, guest_client):
    response = guest_client.get(reverse("parties:invite", args=[private_party.invite_token]))

    assert response.status_code == 200
    assert response.context["party"] == private_party
    assert (
        f'<input type="hidden" name="invite" value="{private_party.invite_token}">'
        in response.content.decode()
    )


def test_rsvp_through_the_invite_link(private_party, guest, guest_client):
    invite_url = reverse("parties:invite", args=[private_party.invite_token])

    response = guest_client.post(
        rsvp_url(private_party),
        {"status": "going", "plus_ones": 1, "note": "", "invite": private_party.invite_token},
    )

    assert response.status_code == 302
    assert response["Location"] == invite_url
    rsvp = RSVP.objects.get(party=private_party, guest=guest)
    assert (rsvp.status, rsvp.plus_ones) == ("going", 1)
    # With a reply the party is theirs to see without the link.
    assert guest_client.get(private_party.get_absolute_url()).status_code == 200
    assert_seats_consistent()


def test_rsvp_to_a_private_party_without_the_link_is_404(private_party, guest_client):
    response = guest_client.post(rsvp_url(private_party), {"status": "going", "plus_ones": 0})
    assert response.status_code == 404
    wrong = guest_client.post(
        rsvp_url(private_party), {"status": "going", "plus_ones": 0, "invite": "nope"}
    )
    assert wrong.status_code == 404
    assert not RSVP.objects.exists()


def test_a_bad_reply_to_a_private_party_without_the_link_is_404_not_the_form(
    private_party, guest_client
):
    for data in ({"status": "going", "plus_ones": "9"}, {"status": "", "invite": "nope"}):
        response = guest_client.post(rsvp_url(private_party), data)
        assert response.status_code == 404
        assert "Secret supper" not in response.content.decode()
    assert not RSVP.objects.exists()


def test_another_partys_invite_link_does_not_open_this_one(private_party, host, guest_client):
    other = DinnerPartyFactory(host=host, title="Open table", visibility=Visibility.PRIVATE)
    good = {"status": "going", "plus_ones": "0", "invite": other.invite_token}

    assert guest_client.post(rsvp_url(private_party), good).status_code == 404
    bad = guest_client.post(rsvp_url(private_party), {**good, "plus_ones": "9"})
    assert bad.status_code == 404
    assert not RSVP.objects.exists()


def test_a_bad_reply_through_the_invite_link_shows_the_invite_page_again(
    private_party, guest_client
):
    token = private_party.invite_token
    response = guest_client.post(
        rsvp_url(private_party), {"status": "going", "plus_ones": "9", "invite": token}
    )
    assert response.status_code == 400
    assert response.context["rsvp_form"].errors["plus_ones"]
    assert f'<input type="hidden" name="invite" value="{token}">' in response.content.decode()
    assert not RSVP.objects.exists()


def test_a_refused_reply_through_the_invite_link_goes_back_to_it(host, guest_client):
    party = DinnerPartyFactory(
        host=host,
        visibility=Visibility.PRIVATE,
        starts_at=timezone.now() - timedelta(minutes=5),
    )
    response = guest_client.post(
        rsvp_url(party), {"status": "going", "plus_ones": "0", "invite": party.invite_token}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("parties:invite", args=[party.invite_token])
    assert "already started" in " ".join(flash_messages(response))
    assert not RSVP.objects.exists()


def test_the_calendar_link_on_an_invite_page_works(private_party, guest_client):
    page = guest_client.get(reverse("parties:invite", args=[private_party.invite_token]))
    markup = page.content.decode()
    link = html.unescape(
        re.search(r'href="([^"]+)">(?:<svg.*?</svg>)?Add to calendar', markup, re.S)[1]
    )

    response = guest_client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    # The calendar entry links back to a page the guest can open.
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    invite_url = reverse("parties:invite", args=[private_party.invite_token])
    assert str(event["URL"]) == f"http://testserver{invite_url}"


def test_a_wrong_invite_token_does_not_open_the_calendar(private_party, guest_client):
    url = reverse("parties:calendar", args=[private_party.pk])
    assert guest_client.get(url, {"invite": "wrong"}).status_code == 404


# Invite values that cannot be a token, however they arrive (path, query or form).
NOT_A_TOKEN = ["\x00", "abc\x00def", "x" * 10_000, "café", "ключ"]


@pytest.mark.parametrize("value", NOT_A_TOKEN)
def test_an_invite_link_that_cannot_be_a_token_is_404_not_an_error(guest_client, value):
    response = guest_client.get(reverse("parties:invite", args=[value]))
    assert response.status_code == 404


def test_an_invite_link_with_a_nul_byte_in_its_path_is_404(guest_client):
    assert guest_client.get("/parties/invite/%00/").status_code == 404


@pytest.mark.parametrize("value", NOT_A_TOKEN)
def test_an_invite_query_that_cannot_be_a_token_counts_as_none(
    party, private_party, guest_client, value
):
    page = guest_client.get(party.get_absolute_url(), {"invite": value})
    assert page.status_code == 200
    assert "?invite=" not in page.content.decode()
    ics = guest_client.get(reverse("parties:calendar", args=[party.pk]), {"invite": value})
    assert ics.status_code == 200

    for url in (
        private_party.get_absolute_url(),
        reverse("parties:calendar", args=[private_party.pk]),
    ):
        assert guest_client.get(url, {"invite": value}).status_code == 404


@pytest.mark.parametrize("value", NOT_A_TOKEN)
def test_a_reply_whose_invite_cannot_be_a_token_counts_as_none(
    party, private_party, guest_client, value
):
    reply = {"status": "going", "plus_ones": "0", "invite": value}

    response = guest_client.post(rsvp_url(party), reply)
    assert response.status_code == 302
    assert response["Location"] == party.get_absolute_url()
    assert guest_client.post(rsvp_url(party), {**reply, "plus_ones": "9"}).status_code == 400
    assert guest_client.post(rsvp_url(private_party), reply).status_code == 404
    assert (
        guest_client.post(rsvp_url(private_party), {**reply, "plus_ones": "9"}).status_code == 404
    )
    assert list(RSVP.objects.values_list("party", flat=True)) == [party.pk]


@pytest.mark.parametrize("value", NOT_A_TOKEN)
def test_a_dish_claim_whose_invite_cannot_be_a_token_counts_as_none(
    party, private_party, guest, guest_client, value
):
    for potluck in (party, private_party):
        services.potluck_set_slots(party=potluck, wanted={"dessert": 1})
        services.rsvp_submit(party=potluck, guest=guest, status="going")
    RSVP.objects.filter(party=private_party).delete()  # the link is all they had
    claim = {"claim-course": "dessert", "claim-name": "Flan", "invite": value}

    assert (
        guest_client.post(reverse("parties:slot_claim", args=[party.pk]), claim).status_code == 302
    )
    private = guest_client.post(reverse("parties:slot_claim", args=[private_party.pk]), claim)
    assert private.status_code == 404
    assert list(Dish.objects.values_list("party", flat=True)) == [party.pk]


def test_regenerating_the_invite_kills_the_old_link(private_party, host_client, guest_client):
    old_url = reverse("parties:invite", args=[private_party.invite_token])
    assert guest_client.get(old_url).status_code == 200

    response = host_client.post(reverse("parties:regenerate_invite", args=[private_party.pk]))

    assert response.status_code == 302
    assert "The old link no longer works" in " ".join(flash_messages(response))
    private_party.refresh_from_db()
    assert guest_client.get(old_url).status_code == 404
    new_url = reverse("parties:invite", args=[private_party.invite_token])
    assert guest_client.get(new_url).status_code == 200


def test_only_the_host_regenerates_the_invite(private_party, guest_client):
    token = private_party.invite_token
    url = reverse("parties:regenerate_invite", args=[private_party.pk])
    assert guest_client.post(url).status_code == 404
    assert guest_client.get(url).status_code == 405
    private_party.refresh_from_db()
    assert private_party.invite_token == token


# --- create ---------------------------------------------------------------------


def test_create_reads_the_time_in_the_partys_zone(host, host_client):
    host.timezone = "America/New_York"  # the host's own zone must not matter
    host.save()

    response = host_client.post(reverse("parties:create"), party_data())

    party = DinnerParty.objects.get()
    assert response.status_code == 302
    assert response["Location"] == party.get_absolute_url()
    assert party.starts_at == datetime(2030, 12, 12, 18, 0, tzinfo=UTC)
    assert party.timezone == "Europe/Paris"
    assert party.host == host
    assert party.when == "Thu 12 Dec, 19:00 CET"
    assert "Your party “Cassoulet night” on Thu 12 Dec, 19:00 CET is on!" in " ".join(
        flash_messages(response)
    )


def test_a_time_the_hosts_own_zone_skips_is_fine_for_a_party_elsewhere(host, host_client):
    host.timezone = "America/New_York"  # 02:00-03:00 on 10 March 2030 doesn't exist there
    host.save()

    response = host_client.post(reverse("parties:create"), party_data(starts_at="2030-03-10T02:30"))

    assert response.status_code == 302
    party = DinnerParty.objects.get()
    assert party.starts_at == datetime(2030, 3, 10, 1, 30, tzinfo=UTC)
    assert party.when == "Sun 10 Mar, 02:30 CET"


def test_a_time_the_partys_zone_skips_is_refused(host_client):
    # Paris moves its clocks from 02:00 to 03:00 on 31 March 2030.
    response = host_client.post(reverse("parties:create"), party_data(starts_at="2030-03-31T02:30"))
    assert_refused(response, "starts_at")
    assert "the clocks go forward" in response.context["form"].errors["starts_at"][0]


def test_the_create_form_defaults_to_the_hosts_zone(host, host_client):
    response = host_client.get(reverse("parties:create"))
    assert response.context["form"].initial["timezone"] == "Europe/Paris"


def assert_refused(response, field: str) -> None:
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "Please fix the errors below." in flash_messages(response)
    assert not DinnerParty.objects.exists()


def test_create_refuses_a_time_in_the_past(host_client):
    response = host_client.post(reverse("parties:create"), party_data(starts_at="2020-12-12T19:00"))
    assert_refused(response, "starts_at")
    assert "Pick a time in the future." in response.context["form"].errors["starts_at"]


@pytest.mark.parametrize("value", ["", "tomorrow", "2030-13-40T19:00"])
def test_create_refuses_a_missing_or_malformed_time(host_client, value):
    response = host_client.post(reverse("parties:create"), party_data(starts_at=value))
    assert_refused(response, "starts_at")


@pytest.mark.parametrize("seats", ["0", "501", "abc", "", "-3", "2.5"])
def test_create_refuses_bad_seat_counts(host_client, seats):
    response = host_client.post(reverse("parties:create"), party_data(seats=seats))
    assert_refused(response, "seats")


@pytest.mark.parametrize("field", ["title", "venue", "main_dish", "description"])
def test_create_refuses_10000_character_text(host_client, field):
    response = host_client.post(reverse("parties:create"), party_data(**{field: "x" * 10_000}))
    assert_refused(response, field)


@pytest.mark.parametrize(
    ("field", "value"), [("timezone", "Mars/Olympus"), ("visibility", "secret")]
)
def test_create_refuses_unknown_choices(host_client, field, value):
    response = host_client.post(reverse("parties:create"), party_data(**{field: value}))
    assert_refused(response, field)


def test_user_text_is_escaped_on_the_detail_and_list_pages(host, host_client):
    response = host_client.post(
        reverse("parties:create"),
        party_data(title=f"T{XSS}", venue=f"V{XSS}", main_dish=f"M{XSS}", description=f"D{XSS}"),
    )
    party = DinnerParty.objects.get()
    assert response.status_code == 302
    guest = UserFactory(first_name=f"G{XSS}", dietary_notes=f"N{XSS}")
    services.rsvp_submit(party=party, guest=guest, status="going", note=f"B{XSS}")

    pages = {
        "detail (host)": host_client.get(party.get_absolute_url()),
        "detail (guest)": client_for(guest).get(party.get_absolute_url()),
        "list": host_client.get(reverse("parties:list")),
        "home": host_client.get(reverse("home")),
    }

    for name, page in pages.items():
        markup = page.content.decode()
        assert XSS not in markup, name
        assert markup.count(XSS_ESCAPED) >= 3, name  # title, venue, main dish at least
    host_page = pages["detail (host)"].content.decode()
    for prefix in "TVMDGNB":  # every field, the guest's name, diet and note too
        assert f"{prefix}{XSS_ESCAPED}" in host_page


# --- edit and delete --------------------------------------------------------------


def test_the_host_edits_their_party(party, host_client):
    response = host_client.post(
        reverse("parties:update", args=[party.pk]), edit_data(party, title="Paella night II")
    )
    assert response.status_code == 302
    party.refresh_from_db()
    assert party.title == "Paella night II"
    assert "“Paella night II” has been updated." in flash_messages(response)


def test_the_edit_form_shows_the_time_in_the_partys_zone(host, host_client):
    party = DinnerPartyFactory(
        host=host, timezone="America/New_York", starts_at=datetime(2030, 12, 13, 0, 0, tzinfo=UTC)
    )
    response = host_client.get(reverse("parties:update", args=[party.pk]))
    assert 'value="2030-12-12T19:00"' in response.content.decode()


def test_adding_seats_on_the_edit_page_seats_the_waitlist(party, host_client):
    for _ in range(5):
        going(party, UserFactory())

    response = host_client.post(
        reverse("parties:update", args=[party.pk]), edit_data(party, seats="5")
    )

    assert response.status_code == 302
    assert "1 guest moved from the waitlist to the table." in " ".join(flash_messages(response))
    party.refresh_from_db()
    assert (party.seats, party.seats_taken) == (5, 5)
    assert_seats_consistent()


def test_seats_below_those_taken_is_a_form_error(party, host_client):
    going(party, UserFactory(), plus_ones=2)

    response = host_client.post(
        reverse("parties:update", args=[party.pk]), edit_data(party, seats="2")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["seats"] == [
        "3 seats are already taken, so the table needs at least 3."
    ]
    party.refresh_from_db()
    assert party.seats == 4
    assert_seats_consistent()


def test_the_host_deletes_their_party(party, host_client):
    going(party, UserFactory())
    url = reverse("parties:delete", args=[party.pk])
    assert host_client.get(url).status_code == 200

    response = host_client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("parties:list")
    assert not DinnerParty.objects.exists()
    assert not RSVP.objects.exists()
    assert flash_messages(response)[0].startswith("“Paella night” has been cancelled and deleted.")


def test_someone_elses_party_cannot_be_edited_or_deleted(party, guest_client):
    before = DinnerParty.objects.values().get(pk=party.pk)
    edit = reverse("parties:update", args=[party.pk])
    delete = reverse("parties:delete", args=[party.pk])

    assert guest_client.get(edit).status_code == 404
    assert guest_client.post(edit, edit_data(party, title="Hijacked")).status_code == 404
    assert guest_client.get(delete).status_code == 404
    assert guest_client.post(delete).status_code == 404

    assert DinnerParty.objects.values().get(pk=party.pk) == before


def test_someone_elses_private_party_is_404_on_every_url(private_party, guest_client):
    before = DinnerParty.objects.values().get(pk=private_party.pk)
    pk = private_party.pk
    for name in ("detail", "update", "delete", "calendar"):
        assert guest_client.get(reverse(f"parties:{name}", args=[pk])).status_code == 404, name
    for name in ("update", "delete", "rsvp", "regenerate_invite"):
        response = guest_client.post(
            reverse(f"parties:{name}", args=[pk]),
            edit_data(private_party, status="going", plus_ones="0"),
        )
        assert response.status_code == 404, name
    assert DinnerParty.objects.values().get(pk=pk) == before
    assert not RSVP.objects.exists()


def test_a_superuser_may_edit_any_party(party):
    admin = client_for(UserFactory(is_superuser=True, is_staff=True))
    response = admin.post(reverse("parties:update", args=[party.pk]), edit_data(party, seats="9"))
    assert response.status_code == 302
    party.refresh_from_db()
    assert party.seats == 9


@pytest.mark.parametrize(
    "path",
    [
        "/parties/abc/",
        "/parties/abc/edit/",
        "/parties/abc/delete/",
        "/parties/abc/rsvp/",
        "/parties/abc/calendar.ics",
        "/parties/1.5/",
        "/parties/-1/",
    ],
)
def test_a_non_numeric_id_is_404(guest_client, path):
    assert guest_client.get(path).status_code == 404
    assert guest_client.post(path).status_code == 404


@pytest.mark.parametrize("name", ["detail", "update", "delete", "calendar"])
def test_a_missing_party_is_404(host_client, name):
    response = host_client.get(reverse(f"parties:{name}", args=[987654]))
    assert response.status_code == 404
    assert "We couldn't find that page" in page_text(response)


def test_rsvp_to_a_missing_party_is_404(guest_client):
    response = guest_client.post(rsvp_url(DinnerParty(pk=987654)), {"status": "going"})
    assert response.status_code == 404


def test_an_unknown_invite_token_is_404(guest_client):
    response = guest_client.get(reverse("parties:invite", args=["x" * 5000]))
    assert response.status_code == 404


# --- RSVP -------------------------------------------------------------------------


def test_rsvp_going_says_so(party, guest, guest_client):
    response = guest_client.post(
        rsvp_url(party), {"status": "going", "plus_ones": "1", "note": "I'll bring wine"}
    )

    assert response.status_code == 302
    assert response["Location"] == party.get_absolute_url()
    (message,) = flash_messages(response)
    assert message.startswith("You're going to Ana's dinner party “Paella night” on ")
    assert message.endswith(" with 1 plus-one!")
    rsvp = RSVP.objects.get(guest=guest)
    assert (rsvp.status, rsvp.plus_ones, rsvp.note) == ("going", 1, "I'll bring wine")
    assert_seats_consistent()


def test_rsvp_to_a_full_party_gives_the_waitlist_place(party, guest, guest_client):
    going(party, UserFactory(), plus_ones=3)
    services.rsvp_submit(party=party, guest=UserFactory(), status="going")

    response = guest_client.post(rsvp_url(party), {"status": "going", "plus_ones": "0"})

    (message,) = flash_messages(response)
    assert message.startswith("The table is full — you're #2 on the waitlist")
    assert RSVP.objects.get(guest=guest).status == "waitlisted"
    assert_seats_consistent()


@pytest.mark.parametrize(
    ("status", "expected"),
    [("maybe", "Noted: you might come to"), ("declined", "Sorry you can't make it to")],
)
def test_rsvp_maybe_and_declined_say_so(party, guest_client, status, expected):
    response = guest_client.post(rsvp_url(party), {"status": status, "plus_ones": "0"})
    (message,) = flash_messages(response)
    assert message.startswith(expected)
    assert RSVP.objects.get().status == status


@pytest.mark.parametrize(
    "data",
    [
        {"status": "going", "plus_ones": "-1"},
        {"status": "going", "plus_ones": "6"},
        {"status": "going", "plus_ones": "x"},
        {"status": "going", "plus_ones": ""},
        {"status": "waitlisted", "plus_ones": "0"},
        {"status": "bogus", "plus_ones": "0"},
        {"status": "", "plus_ones": "0"},
        {"status": "going", "plus_ones": "0", "note": "n" * 10_000},
        {"status": "going", "plus_ones": "1", "plus_one_diets": ["carnivore"]},
        {"status": "going", "plus_ones": "1", "plus_one_allergies": ["<script>"]},
    ],
)
def test_a_bad_rsvp_is_refused_with_a_message(party, guest_client, data):
    response = guest_client.post(rsvp_url(party), data)

    # The party page again, the reply as typed, each error beside its field.
    assert response.status_code == 400
    form = response.context["rsvp_form"]
    assert form.is_bound
    assert form.errors
    markup = response.content.decode()
    assert "<script>" not in markup.split("<main", 1)[1].replace("<script src=", "")
    messages = list(get_messages(response.wsgi_request))
    assert messages
    assert all(message.level == ERROR for message in messages), [str(m) for m in messages]
    assert not RSVP.objects.exists()
    party.refresh_from_db()
    assert party.seats_taken == 0


def test_a_bad_rsvp_keeps_the_previous_reply(party, guest, guest_client):
    going(party, guest, plus_ones=1)
    guest_client.post(rsvp_url(party), {"status": "going", "plus_ones": "9"})
    rsvp = RSVP.objects.get()
    assert (rsvp.status, rsvp.plus_ones) == ("going", 1)
    assert_seats_consistent()


def test_the_host_cannot_rsvp_to_their_own_party(party, host_client):
    response = host_client.post(rsvp_url(party), {"status": "going", "plus_ones": "0"})
    assert response.status_code == 302
    assert "your seat at the table is already saved" in " ".join(flash_messages(response))
    assert not RSVP.objects.exists()


def test_too_many_plus_ones_for_a_seated_guest_is_explained(party, guest, guest_client):
    going(party, guest)
    going(party, UserFactory(), plus_ones=1)
    response = guest_client.post(rsvp_url(party), {"status": "going", "plus_ones": "3"})
    assert "you can bring at most 1 plus-one." in " ".join(flash_messages(response))
    assert RSVP.objects.get(guest=guest).plus_ones == 0
    assert_seats_consistent()


def test_rsvp_to_a_started_party_is_refused(guest_client):
    party = DinnerPartyFactory(starts_at=timezone.now() - timedelta(minutes=1))
    response = guest_client.post(rsvp_url(party), {"status": "going", "plus_ones": "0"})
    assert "already started" in " ".join(flash_messages(response))
    assert not RSVP.objects.exists()


def test_get_on_rsvp_is_405(party, guest_client):
    assert guest_client.get(rsvp_url(party)).status_code == 405
    assert not RSVP.objects.exists()


def test_rsvp_without_a_csrf_token_is_403(party, guest):
    client = Client(enforce_csrf_checks=True)
    client.force_login(guest)
    response = client.post(rsvp_url(party), {"status": "going", "plus_ones": "0"})
    assert response.status_code == 403
    assert not RSVP.objects.exists()


def test_the_promoted_guest_is_told_once_on_their_next_page(party, guest, guest_client):
    seated = UserFactory()
    going(party, seated, plus_ones=3)
    services.rsvp_submit(party=party, guest=guest, status="going")
    assert RSVP.objects.get(guest=guest).status == "waitlisted"

    client_for(seated).post(rsvp_url(party), {"status": "declined", "plus_ones": "0"})

    first = guest_client.get(reverse("home"))
    assert "moved from the waitlist to the table" in page_text(first)
    assert "Paella night" in page_text(first)
    assert not Notice.objects.exists()
    second = guest_client.get(reverse("parties:list"))
    assert "moved from the waitlist to the table" not in page_text(second)
    assert RSVP.objects.get(guest=guest).status == "going"
    assert_seats_consistent()


def test_notices_wait_for_a_get(party, guest, guest_client):
    services.leave_notices(
        [Notice(user=guest, text="You've been moved from the waitlist to the table")]
    )
    guest_client.post(rsvp_url(party), {"status": "maybe", "plus_ones": "0"})
    assert Notice.objects.count() == 1
    response = guest_client.get(reverse("parties:list"))
    assert "moved from the waitlist to the table" in page_text(response)
    guest.refresh_from_db()
    assert not guest.has_notices
    assert not Notice.objects.exists()


def test_a_notice_left_while_the_page_loads_is_shown_on_the_next_one(guest, guest_client):
    # The flag is cleared before the notices are read: one stored after that
    # read sets it again, so the next page shows it.
    services.leave_notices([Notice(user=guest, text="First notice")])
    assert "First notice" in page_text(guest_client.get(reverse("parties:list")))
    services.leave_notices([Notice(user=guest, text="Second notice")])
    guest.refresh_from_db()
    assert guest.has_notices
    assert "Second notice" in page_text(guest_client.get(reverse("parties:list")))


def test_pages_look_for_notices_only_when_the_user_has_some(guest, guest_client):
    with CaptureQueriesContext(connection) as queries:
        guest_client.get(reverse("parties:list"))
    assert not [q for q in queries if "parties_notice" in q["sql"]]


# --- calendar -------------------------------------------------------------------------


def test_the_ics_file_describes_the_party_in_its_zone(guest_client):
    party = DinnerPartyFactory(
        title="Cassoulet night",
        venue="Rue des Martyrs 8, Paris",
        timezone="Europe/Paris",
        starts_at=datetime(2030, 12, 12, 18, 0, tzinfo=UTC),
    )

    response = guest_client.get(reverse("parties:calendar", args=[party.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="dinnerparty-{party.pk}.ics"' in response["Content-Disposition"]
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"party-{party.pk}@dinnerparty"
    assert str(event["SUMMARY"]) == "Cassoulet night"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    start = event.decoded("DTSTART")
    assert start.strftime("%Y-%m-%d %H:%M") == "2030-12-12 19:00"
    assert start == party.starts_at
    assert event.decoded("DTEND") - start == timedelta(hours=3)
    assert event["DTEND"].params["TZID"] == "Europe/Paris"
    assert str(event["LOCATION"]) == "Rue des Martyrs 8, Paris"
    assert str(event["URL"]) == f"http://testserver{party.get_absolute_url()}"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


# --- landing page -------------------------------------------------------------------


def test_the_landing_page_lists_upcoming_public_parties_to_anyone(client):
    DinnerPartyFactory(title="Open table")
    DinnerPartyFactory(title="Hush hush", visibility=Visibility.PRIVATE)
    DinnerPartyFactory(title="Last week", starts_at=timezone.now() - timedelta(days=7))

    response = client.get(reverse("home"))

    assert response.status_code == 200
    text = page_text(response)
    assert "Open table" in text
    assert "Hush hush" not in text
    assert "Last week" not in text
    assert [p.title for p in response.context["parties"]] == ["Open table"]


def test_the_landing_page_without_parties_invites_to_sign_up(client):
    text = page_text(client.get(reverse("home")))
    assert "No public parties coming up" in text


def test_the_landing_page_hides_private_parties_from_members_too(guest_client, guest):
    DinnerPartyFactory(title="Mine, private", host=guest, visibility=Visibility.PRIVATE)
    assert "Mine, private" not in page_text(guest_client.get(reverse("home")))


def test_rsvp_factory_default_holds_no_seat():
    assert RSVPFactory().status == RSVPStatus.MAYBE


def test_notices_stored_before_the_flag_existed_are_flagged_by_the_migration(guest, guest_client):
    Notice.objects.create(user=guest, text="Moved to the table before the upgrade")
    assert "Moved to the table" not in page_text(guest_client.get(reverse("parties:list")))

    import_module("parties.migrations.0007_flag_pending_notices").flag_pending(apps, None)

    assert "Moved to the table" in page_text(guest_client.get(reverse("parties:list")))
