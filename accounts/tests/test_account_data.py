"""A user's own data: deleting the account (password re-entered) and
downloading everything DinnerParty holds about them as JSON."""

import json

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import page_text
from parties import services
from parties.models import RSVP, DinnerParty, Notice, RSVPStatus
from parties.tests.factories import DinnerPartyFactory

pytestmark = pytest.mark.django_db

DELETE_URL = reverse("account_delete")
EXPORT_URL = reverse("account_export")
GOODBYE = "Your account and everything in it has been deleted. Goodbye!"


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Emails go out on commit; run what's inside as if it committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def reply(party, guest, status, plus_ones=0, note=""):
    return services.rsvp_submit(
        party=party, guest=guest, status=status, plus_ones=plus_ones, note=note
    ).rsvp


def login_url(next_url: str) -> str:
    return f"{reverse('login')}?next={next_url}"


# --- deleting the account ------------------------------------------------------------------


def test_the_delete_page_is_behind_the_login_wall(client, user):
    assert client.get(DELETE_URL).url == login_url(DELETE_URL)

    response = client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response.url == login_url(DELETE_URL)
    assert User.objects.filter(pk=user.pk).exists()


def test_the_delete_page_asks_for_the_password_and_offers_the_export(user_client):
    response = user_client.get(DELETE_URL)

    assert response.status_code == 200
    text = page_text(response)
    assert "Delete your account?" in text
    assert 'type="password"' in text
    assert f'href="{EXPORT_URL}"' in text


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("not-my-password-at-all", "That's not your current password."),
        ("", "This field is required."),
        ("x" * 10_000, "Ensure this value has at most 1024 characters (it has 10000)."),
        (DEFAULT_PASSWORD + " ", "That's not your current password."),
    ],
    ids=["wrong", "empty", "ten-thousand-characters", "trailing-space"],
)
def test_a_wrong_password_deletes_nothing(
    user_client, user, committing, mailoutbox, password, error
):
    party = DinnerPartyFactory(host=user)
    reply(party, UserFactory(), RSVPStatus.GOING)
    rsvp = reply(DinnerPartyFactory(), user, RSVPStatus.GOING)

    with committing():
        response = user_client.post(DELETE_URL, {"password": password})

    assert response.status_code == 200
    assert response.context["form"].errors == {"password": [error]}
    assert "Please fix the errors below." in page_text(response)
    assert User.objects.filter(pk=user.pk).exists()
    assert DinnerParty.objects.filter(pk=party.pk).exists()
    assert RSVP.objects.filter(pk=rsvp.pk).exists()
    assert user_client.session[SESSION_KEY] == str(user.pk)
    assert mailoutbox == []


def test_the_right_password_deletes_the_account_and_logs_out(user_client, user):
    other_device = Client()
    other_device.force_login(user)

    response = user_client.post(DELETE_URL, {"password": DEFAULT_PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    assert [str(m) for m in response.context["messages"]] == [GOODBYE]
    assert not response.context["user"].is_authenticated
    assert SESSION_KEY not in user_client.session
    assert not User.objects.filter(pk=user.pk).exists()
    # Logged out here and everywhere else.
    profile = reverse("profile")
    assert user_client.get(profile).url == login_url(profile)
    assert other_device.get(profile).url == login_url(profile)
    # The old password opens nothing any more.
    assert not Client().login(username=user.username, password=DEFAULT_PASSWORD)


def test_deleting_frees_the_seats_for_the_waitlist(user_client, user, committing, mailoutbox):
    party = DinnerPartyFactory(title="Paella night", seats=2)
    mine = reply(party, user, RSVPStatus.GOING, plus_ones=1)
    waiting = UserFactory()
    assert reply(party, waiting, RSVPStatus.GOING).status == RSVPStatus.WAITLISTED
    maybe_party = DinnerPartyFactory()
    reply(maybe_party, user, RSVPStatus.MAYBE)

    with committing():
        user_client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert not RSVP.objects.filter(pk=mine.pk).exists()
    party.refresh_from_db()
    assert party.seats_taken == 1
    assert RSVP.objects.get(party=party, guest=waiting).status == RSVPStatus.GOING
    assert Notice.objects.filter(user=waiting).count() == 1
    assert [m.to for m in mailoutbox] == [[waiting.email]]
    promotion = mailoutbox[0]
    assert promotion.subject == (
        f"You're off the waitlist for “Paella night” · {party.when} · {party.venue}"
    )
    assert f"{settings.SITE_URL}{party.get_absolute_url()}" in promotion.body


def test_deleting_cancels_the_hosted_parties_and_tells_their_guests(
    user_client, user, committing, mailoutbox
):
    feast = DinnerPartyFactory(host=user, title="Ana's feast", seats=1)
    tapas = DinnerPartyFactory(host=user, title="Tapas")
    coming, waiting, unsure, declined = (UserFactory() for _ in range(4))
    reply(feast, coming, RSVPStatus.GOING)
    reply(feast, waiting, RSVPStatus.GOING)
    reply(feast, declined, RSVPStatus.DECLINED)
    reply(tapas, unsure, RSVPStatus.MAYBE)
    feast_when, tapas_when = feast.when, tapas.when
    feast_place, tapas_place = feast.venue, tapas.venue

    with committing():
        user_client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert not DinnerParty.objects.filter(pk__in=[feast.pk, tapas.pk]).exists()
    assert not RSVP.objects.filter(party_id__in=[feast.pk, tapas.pk]).exists()
    by_address = {message.to[0]: message for message in mailoutbox}
    assert all(len(message.to) == 1 for message in mailoutbox)
    assert sorted(by_address) == sorted([coming.email, waiting.email, unsure.email])
    feast_subject = f"Cancelled: “Ana's feast” · {feast_when} · {feast_place}"
    assert by_address[coming.email].subject == feast_subject
    assert (
        f'Ana has cancelled "Ana\'s feast", which was planned for {feast_when} in {feast_place}.'
        in by_address[coming.email].body
    )
    assert by_address[waiting.email].subject == feast_subject
    assert by_address[unsure.email].subject == f"Cancelled: “Tapas” · {tapas_when} · {tapas_place}"
    assert tapas_when in by_address[unsure.email].body
    assert by_address[unsure.email].alternatives[0][1] == "text/html"


def test_nothing_of_the_user_is_left(user_client, user, committing):
    hosted = DinnerPartyFactory(host=user, seats=1)
    reply(hosted, UserFactory(), RSVPStatus.GOING)
    reply(hosted, UserFactory(), RSVPStatus.GOING)  # waitlisted
    full = DinnerPartyFactory(seats=1)
    reply(full, UserFactory(), RSVPStatus.GOING)
    reply(full, user, RSVPStatus.GOING)  # waitlisted
    reply(DinnerPartyFactory(), user, RSVPStatus.DECLINED, note="Sorry!")
    Notice.objects.create(user=user, text="You've been moved from the waitlist…")
    others = (
        RSVP.objects.exclude(guest=user).exclude(party=hosted).count(),
        Notice.objects.count(),
    )

    with committing():
        user_client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert not User.objects.filter(pk=user.pk).exists()
    assert not RSVP.objects.filter(guest_id=user.pk).exists()
    assert not DinnerParty.objects.filter(host_id=user.pk).exists()
    assert not RSVP.objects.filter(party_id=hosted.pk).exists()
    assert not Notice.objects.filter(user_id=user.pk).exists()
    # Everyone else's replies and notices are untouched.
    assert (RSVP.objects.count(), Notice.objects.count()) == (others[0], others[1] - 1)


def test_a_failure_part_way_through_deletes_nothing(
    user_client, user, committing, mailoutbox, monkeypatch
):
    hosted = DinnerPartyFactory(host=user)
    reply(hosted, UserFactory(), RSVPStatus.GOING)
    mine = reply(DinnerPartyFactory(), user, RSVPStatus.GOING)

    def lost_connection(self, *args, **kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(User, "delete", lost_connection)

    with committing(), pytest.raises(DatabaseError):
        user_client.post(DELETE_URL, {"password": DEFAULT_PASSWORD})

    assert User.objects.filter(pk=user.pk).exists()
    assert RSVP.objects.filter(pk=mine.pk).exists()
    assert DinnerParty.objects.filter(pk=hosted.pk).exists()
    assert mailoutbox == []


# --- downloading one's data ----------------------------------------------------------------


def test_the_export_is_behind_the_login_wall(client):
    assert client.get(EXPORT_URL).url == login_url(EXPORT_URL)


def test_the_export_holds_the_profile_parties_hosted_and_replies(user_client, user):
    User.objects.filter(pk=user.pk).update(
        dietary_notes="Vegetarian, no nuts", timezone="Asia/Tokyo"
    )
    hosted = DinnerPartyFactory(
        host=user,
        title="Ana's feast",
        venue="1 Main St",
        main_dish="Feijoada",
        seats=6,
        description="Bring a jumper.",
        visibility="private",
        timezone="America/Sao_Paulo",
    )
    other_host = UserFactory(email="zoe@example.com")
    attending = DinnerPartyFactory(host=other_host, title="Tapas")
    maybe = DinnerPartyFactory(host=other_host, title="Paella night")
    reply(hosted, UserFactory(email="bea@example.com"), RSVPStatus.GOING, note="Bea's wine")
    reply(attending, user, RSVPStatus.GOING, plus_ones=2, note="I'll bring dessert")
    reply(maybe, user, RSVPStatus.MAYBE, note="If the train runs")
    DinnerPartyFactory(host=other_host, title="Zoe's secret supper")

    response = user_client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="dinnerparty-my-data.json"'
    data = json.loads(response.content)
    assert set(data) == {
        "profile",
        "parties_hosted",
        "rsvps",
        "dishes",
        "messages",
        "invitations_sent",
        "invitations_received",
        "replies_by_email_link",
    }
    user.refresh_from_db()
    assert data["profile"] == {
        "username": "ana",
        "email": "ana@example.com",
        "email_confirmed_at": user.email_confirmed_at.isoformat(),
        "pending_email": "",
        "first_name": "Ana",
        "last_name": "Lima",
        "dietary_notes": "Vegetarian, no nuts",
        "diets": [],
        "allergies": [],
        "timezone": "Asia/Tokyo",
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat(),
    }
    hosted.refresh_from_db()
    assert data["parties_hosted"] == [
        {
            "title": "Ana's feast",
            "starts_at": hosted.starts_at.isoformat(),
            "timezone": "America/Sao_Paulo",
            "venue": "1 Main St",
            "area": "",
            "hide_address": False,
            "main_dish": "Feijoada",
            "potluck": False,
            "seats": 6,
            "seats_taken": 1,
            "description": "Bring a jumper.",
            "visibility": "private",
            "created_at": hosted.created_at.isoformat(),
        }
    ]
    rsvps = {rsvp.party.title: rsvp for rsvp in RSVP.objects.filter(guest=user)}
    assert sorted(data["rsvps"], key=lambda r: r["party"]) == [
        {
            "party": "Paella night",
            "party_starts_at": maybe.starts_at.isoformat(),
            "status": "maybe",
            "plus_ones": 0,
            "note": "If the train runs",
            "plus_one_diets": [],
            "plus_one_allergies": [],
            "created_at": rsvps["Paella night"].created_at.isoformat(),
            "updated_at": rsvps["Paella night"].updated_at.isoformat(),
        },
        {
            "party": "Tapas",
            "party_starts_at": attending.starts_at.isoformat(),
            "status": "going",
            "plus_ones": 2,
            "note": "I'll bring dessert",
            "plus_one_diets": [],
            "plus_one_allergies": [],
            "created_at": rsvps["Tapas"].created_at.isoformat(),
            "updated_at": rsvps["Tapas"].updated_at.isoformat(),
        },
    ]
    # Other people's data stays out: guests of the user's party, other hosts.
    text = response.content.decode()
    for private in ("bea@example.com", "Bea's wine", "zoe@example.com", "Zoe's secret supper"):
        assert private not in text
    assert user.password not in text
    assert "password" not in text


def test_the_export_holds_diets_allergies_dishes_and_messages(user_client, user):
    User.objects.filter(pk=user.pk).update(diets=["vegan"], allergies=["sesame", "soya"])
    party = DinnerPartyFactory(title="Potluck")
    services.potluck_set_slots(party=party, wanted={"dessert": 1})
    services.rsvp_submit(
        party=party,
        guest=user,
        status=RSVPStatus.GOING,
        plus_ones=1,
        plus_one_diets=["halal"],
        plus_one_allergies=["milk"],
    )
    services.slot_claim(
        party=party,
        guest=user,
        course="dessert",
        name="Vegan brownies",
        allergens=["tree_nuts"],
        allergens_complete=True,
        suits=["vegan"],
    )
    own = DinnerPartyFactory(host=user, title="Ana's feast", hide_address=True, area="Lapa")
    services.announce(party=own, author=user, audience="going", text="Bring a jumper")
    other = UserFactory()
    services.rsvp_submit(party=party, guest=other, status=RSVPStatus.GOING)
    services.dish_add(party=party, cook=other, course="main", name="Someone else's stew")

    data = user_client.get(EXPORT_URL).json()

    assert data["profile"]["diets"] == ["vegan"]
    assert data["profile"]["allergies"] == ["sesame", "soya"]
    (rsvp,) = data["rsvps"]
    assert (rsvp["plus_one_diets"], rsvp["plus_one_allergies"]) == (["halal"], ["milk"])
    (dish,) = data["dishes"]
    assert {key: value for key, value in dish.items() if key != "created_at"} == {
        "party": "Potluck",
        "course": "dessert",
        "name": "Vegan brownies",
        "allergens": ["tree_nuts"],
        "allergens_complete": True,
        "suits": ["vegan"],
    }
    (message,) = data["messages"]
    assert (message["party"], message["audience"], message["text"]) == (
        "Ana's feast",
        "going",
        "Bring a jumper",
    )
    (hosted,) = data["parties_hosted"]
    assert (hosted["area"], hosted["hide_address"]) == ("Lapa", True)
    assert "Someone else's stew" not in json.dumps(data)


def test_another_users_export_never_shows_this_user(client, user):
    reply(DinnerPartyFactory(), user, RSVPStatus.GOING, note="Ana's private note")
    DinnerPartyFactory(host=user, title="Ana's own party")
    other = UserFactory(username="zoe", email="zoe@example.com")
    client.force_login(other)

    data = client.get(EXPORT_URL).json()

    assert data["profile"]["username"] == "zoe"
    assert data["parties_hosted"] == []
    assert data["rsvps"] == []
    text = json.dumps(data)
    for private in ("ana@example.com", "Ana's private note", "Ana's own party"):
        assert private not in text


# --- invitations and replies waiting for their link (issue 20) ------------------------


def _invitations_and_replies(user, *, count: int = 1):
    from parties.models import Invitation, PendingReply

    other_host = UserFactory(first_name="Zoe", last_name="Host", email="zoe@example.com")
    for number in range(count):
        party = DinnerPartyFactory(host=other_host, title=f"Zoe's supper {number}")
        Invitation.objects.create(
            party=party, email="ANA@example.com", name="Ana", invited_by=other_host
        )
        PendingReply.objects.create(
            party=party, name="Ana L", email="ana@example.com", status="maybe", note="Maybe!"
        )
        own = DinnerPartyFactory(host=user, title=f"Ana's brunch {number}")
        Invitation.objects.create(
            party=own, email=f"friend{number}@example.com", name="Friend", invited_by=user
        )
    # Someone else's invitation and reply never show.
    Invitation.objects.create(
        party=DinnerPartyFactory(host=other_host),
        email="bea@example.com",
        name="Bea",
        invited_by=other_host,
    )


def test_the_export_holds_invitations_sent_received_and_replies_waiting_for_their_link(
    user_client, user
):
    _invitations_and_replies(user)

    data = user_client.get(EXPORT_URL).json()

    [sent] = data["invitations_sent"]
    assert sent["party"] == "Ana's brunch 0"
    assert sent["email"] == "friend0@example.com"
    assert sent["state"] == "invited"
    assert sent["created_at"]
    assert sent["sent_at"] is None
    [received] = data["invitations_received"]
    assert received["party"] == "Zoe's supper 0"
    assert received["invited_by"] == "Zoe Host"
    assert received["email"] == "ANA@example.com"
    [waiting] = data["replies_by_email_link"]
    assert waiting["party"] == "Zoe's supper 0"
    assert (waiting["status"], waiting["note"], waiting["used_at"]) == ("maybe", "Maybe!", None)
    assert "bea@example.com" not in json.dumps(data)


def test_an_unconfirmed_address_gets_no_invitations_or_replies_made_to_it(client):
    squatter = UserFactory(email="ana@example.com", unconfirmed=True)
    _invitations_and_replies(UserFactory(email="other@example.com"))
    client.force_login(squatter)

    data = client.get(EXPORT_URL).json()

    assert data["invitations_received"] == []
    assert data["replies_by_email_link"] == []


@pytest.mark.parametrize("count", [1, 8])
def test_the_export_takes_a_fixed_number_of_queries(
    user_client, user, count, django_assert_max_num_queries
):
    _invitations_and_replies(user, count=count)

    # Session and user, then one query for each of the eight lists.
    with django_assert_max_num_queries(10):
        data = user_client.get(EXPORT_URL).json()

    assert len(data["invitations_received"]) == count
    assert len(data["invitations_sent"]) == count
