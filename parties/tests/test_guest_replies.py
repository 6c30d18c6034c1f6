"""Replies without a password: a visitor answers from a party's preview, and the
reply counts when the link emailed to their address is opened."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import UserFactory
from parties import guest_replies, services
from parties.models import RSVP, DinnerParty, PendingReply, RSVPStatus, Visibility
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import (
    assert_seats_consistent,
    client_for,
    flash_messages,
    going,
    page_text,
)

pytestmark = pytest.mark.django_db
User = get_user_model()

LINK = re.compile(r"http://[^/\s]+(/parties/\d+/reply/[^/\s\"]+/)")
SENT_PAGE = "Check your email"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()  # the per-address and per-IP counters


@pytest.fixture
def private_party(host):
    return DinnerPartyFactory(
        host=host,
        title="Secret supper",
        visibility=Visibility.PRIVATE,
        hide_address=True,
        venue="12 Rue des Lilas",
        area="Belleville",
        seats=2,
    )


def reply_data(party, **overrides) -> dict:
    return {
        "name": "Maria Lopez",
        "email": "maria@example.com",
        "status": "going",
        "plus_ones": "0",
        "note": "I'll bring wine",
        "invite": party.invite_token,
        **overrides,
    }


def send_reply(client, party, committing, **overrides):
    with committing():
        return client.post(
            reverse("parties:guest_reply", args=[party.pk]),
            reply_data(party, **overrides),
            follow=True,
        )


def link_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def waiting_reply(party, *, name: str, email: str) -> tuple[PendingReply, str]:
    """A reply ("going") kept straight in the table, waiting for its link: the
    reply and its link's path."""
    reply = PendingReply.objects.create(
        party=party,
        invite_token=party.invite_token,
        name=name,
        email=email,
        status=RSVPStatus.GOING,
    )
    return reply, reverse(
        "parties:guest_reply_confirm", args=[party.pk, guest_replies.link_token(reply)]
    )


def open_link(client, link: str, committing):
    """The confirmation page, then its button (the reply counts on the POST)."""
    page = client.get(link)
    with committing():
        return page, client.post(link)


# --- sending a reply ----------------------------------------------------------------


def test_a_reply_sends_a_link_and_records_nothing_yet(private_party, committing, mailoutbox):
    response = send_reply(Client(), private_party, committing)

    assert response.status_code == 200
    assert SENT_PAGE in page_text(response)
    assert "maria@example.com" not in page_text(response)  # the same page for any address
    [message] = mailoutbox
    assert message.to == ["maria@example.com"]
    assert "Secret supper" in message.subject
    assert link_in(message).startswith(f"/parties/{private_party.pk}/reply/")
    assert not RSVP.objects.exists()
    assert not User.objects.filter(email="maria@example.com").exists()


def test_opening_the_link_seats_the_guest_in_a_new_guest_account(
    private_party, committing, mailoutbox
):
    visitor = Client()
    send_reply(visitor, private_party, committing, plus_ones="1")
    link = link_in(mailoutbox[0])

    page = visitor.get(link)
    assert page.status_code == 200
    assert "Send my reply" in page_text(page)
    assert not RSVP.objects.exists()  # opening the page records nothing: the button does
    with committing():
        response = visitor.post(link)

    assert response.status_code == 302
    assert response["Location"] == reverse("parties:invite", args=[private_party.invite_token])
    guest = User.objects.get(email="maria@example.com")
    assert guest.username == "maria-lopez"
    assert guest.first_name == "Maria Lopez"
    assert not guest.has_usable_password()
    assert guest.email_confirmed
    rsvp = RSVP.objects.get(guest=guest, party=private_party)
    assert (rsvp.status, rsvp.plus_ones, rsvp.note) == ("going", 1, "I'll bring wine")
    assert_seats_consistent()
    messages = flash_messages(response)
    assert any("You're going to" in text for text in messages)
    assert any("Set a password to keep it" in text for text in messages)
    # The browser is logged in: the party page, with the offer to keep the account.
    party_page = visitor.get(response["Location"])
    assert party_page.wsgi_request.user == guest
    assert "Set a password to keep your account" in page_text(party_page)
    assert "12 Rue des Lilas" in page_text(party_page)  # at the table now


def test_a_guest_reading_german_is_told_about_their_new_account_in_german(
    private_party, committing
):
    _reply, link = waiting_reply(private_party, name="Maria Lopez", email="maria@example.com")
    visitor = Client(HTTP_ACCEPT_LANGUAGE="de")

    with committing():
        response = visitor.post(link)

    messages = flash_messages(response)
    assert any("ein Gastkonto angelegt, maria-lopez" in text for text in messages), messages
    assert not any("guest account" in text for text in messages), messages


def test_a_reply_to_a_full_party_joins_the_waitlist(private_party, committing, mailoutbox):
    going(private_party, UserFactory(), plus_ones=1)
    send_reply(Client(), private_party, committing)
    open_link(Client(), link_in(mailoutbox[0]), committing)

    rsvp = RSVP.objects.get(guest__email="maria@example.com")
    assert rsvp.status == RSVPStatus.WAITLISTED
    assert_seats_consistent()


def test_a_reply_from_a_public_partys_page_goes_back_to_it(host, committing, mailoutbox):
    party = DinnerPartyFactory(host=host)
    send_reply(Client(), party, committing, invite="", status="maybe")
    _, response = open_link(Client(), link_in(mailoutbox[0]), committing)

    assert response["Location"] == party.get_absolute_url()
    assert RSVP.objects.get(party=party).status == RSVPStatus.MAYBE


def test_a_second_guest_with_the_same_name_gets_another_username(
    private_party, committing, mailoutbox
):
    UserFactory(username="Maria-Lopez")
    send_reply(Client(), private_party, committing)
    open_link(Client(), link_in(mailoutbox[0]), committing)
    assert User.objects.get(email="maria@example.com").username == "maria-lopez-2"


def test_past_ten_namesakes_a_username_gets_a_random_ending(private_party, committing, mailoutbox):
    for number in ["", *(f"-{n}" for n in range(2, 11))]:
        UserFactory(username=f"maria-lopez{number}")
    send_reply(Client(), private_party, committing)
    open_link(Client(), link_in(mailoutbox[0]), committing)
    username = User.objects.get(email="maria@example.com").username
    assert re.fullmatch(r"maria-lopez-[0-9a-f]{6}", username)


def test_a_name_with_no_letters_for_a_username_still_makes_one(
    private_party, committing, mailoutbox
):
    send_reply(Client(), private_party, committing, name="李小龍")
    open_link(Client(), link_in(mailoutbox[0]), committing)
    guest = User.objects.get(email="maria@example.com")
    assert guest.username == "guest"
    assert guest.first_name == "李小龍"


def test_a_guest_account_replying_again_is_the_same_account(
    private_party, host, committing, mailoutbox
):
    send_reply(Client(), private_party, committing)
    open_link(Client(), link_in(mailoutbox[0]), committing)
    other = DinnerPartyFactory(host=host, title="Second supper")
    send_reply(Client(), other, committing, invite="", email="MARIA@example.com")
    _, response = open_link(Client(), link_in(mailoutbox[-1]), committing)

    assert response.status_code == 302
    assert User.objects.filter(email__iexact="maria@example.com").count() == 1
    assert RSVP.objects.filter(guest__email="maria@example.com").count() == 2


# --- accounts with a password ---------------------------------------------------------


def test_an_address_with_a_password_account_gets_the_same_page_and_a_log_in_email(
    private_party, committing, mailoutbox
):
    member = UserFactory(email="ben@example.com", email_confirmed_at=timezone.now())
    response = send_reply(Client(), private_party, committing, email="BEN@example.com")

    assert SENT_PAGE in page_text(response)
    [message] = mailoutbox
    assert message.to == [member.email]
    assert "Log in to reply" in message.subject
    assert "/accounts/login/?next=" in message.body
    assert not LINK.search(message.body)
    assert not PendingReply.objects.exists()
    assert not RSVP.objects.exists()


@pytest.mark.parametrize("kind", ["password", "second_factor"])
def test_a_link_never_logs_in_an_account_with_a_password_or_second_factor(
    private_party, committing, kind
):
    member = UserFactory(email="ben@example.com")
    if kind == "second_factor":
        member.set_unusable_password()
        member.save()
        TOTPDevice.objects.create(user=member, name="app", confirmed=True)
    # (A reply kept before the address became the account's.)
    _reply, link = waiting_reply(private_party, name="Ben", email="ben@example.com")
    visitor = Client()
    _, response = open_link(visitor, link, committing)

    assert response.status_code == 400
    assert "belongs to an account with a password" in page_text(response)
    assert "_auth_user_id" not in visitor.session
    assert not RSVP.objects.exists()


# --- links that won't do ------------------------------------------------------------


def test_a_used_link_says_so_and_records_nothing_more(private_party, committing, mailoutbox):
    send_reply(Client(), private_party, committing)
    link = link_in(mailoutbox[0])
    open_link(Client(), link, committing)

    page, again = open_link(Client(), link, committing)

    for response in (page, again):
        assert response.status_code == 400
        assert "This link has been used already" in page_text(response)
    assert RSVP.objects.count() == 1


def test_an_expired_link_says_so_and_offers_a_new_one(private_party, committing, mailoutbox):
    send_reply(Client(), private_party, committing)
    link = link_in(mailoutbox[0])

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        page, posted = open_link(Client(), link, committing)

    for response in (page, posted):
        assert response.status_code == 400
        assert "This link has expired" in page_text(response)
        assert "Reply again for a new link" in page_text(response)
        invite = reverse("parties:invite", args=[private_party.invite_token])
        assert f'href="{invite}"' in response.content.decode()
    assert not RSVP.objects.exists()
    assert not User.objects.filter(email="maria@example.com").exists()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-3] + "xyz",
        lambda token: token[:10],
        lambda token: "not-a-token",
        lambda token: "a" * 500,
        lambda token: "%00",
        lambda token: token.replace(":", "::"),
    ],
)
def test_a_tampered_link_is_a_clear_page_not_an_error(
    private_party, committing, mailoutbox, mangle
):
    send_reply(Client(), private_party, committing)
    link = link_in(mailoutbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    bad = f"/parties/{private_party.pk}/reply/{mangle(token)}/"

    page, posted = open_link(Client(), bad, committing)

    for response in (page, posted):
        assert response.status_code == 400
        assert "This link is not one of ours" in page_text(response)
    assert not RSVP.objects.exists()


def test_a_link_for_another_party_records_nothing(private_party, host, committing, mailoutbox):
    send_reply(Client(), private_party, committing)
    token = link_in(mailoutbox[0]).rstrip("/").rsplit("/", 1)[1]
    other = DinnerPartyFactory(host=host)

    page, posted = open_link(
        Client(), reverse("parties:guest_reply_confirm", args=[other.pk, token]), committing
    )

    for response in (page, posted):
        assert response.status_code == 400
        assert "This link is for another party" in page_text(response)
    assert not RSVP.objects.exists()


def test_a_link_for_a_missing_party_records_nothing(private_party, committing, mailoutbox):
    send_reply(Client(), private_party, committing)
    token = link_in(mailoutbox[0]).rstrip("/").rsplit("/", 1)[1]
    pk = private_party.pk
    private_party.delete()
    page, posted = open_link(
        Client(), reverse("parties:guest_reply_confirm", args=[pk, token]), committing
    )
    assert page.status_code == posted.status_code == 400
    assert not User.objects.filter(email="maria@example.com").exists()


def test_a_replaced_invite_link_stops_the_reply_and_records_nothing(
    private_party, committing, mailoutbox
):
    send_reply(Client(), private_party, committing)
    services.regenerate_invite(party=private_party)
    _, response = open_link(Client(), link_in(mailoutbox[0]), committing)

    assert response.status_code == 400
    assert "replaced this party's invite link" in page_text(response)
    assert not RSVP.objects.exists()
    assert not User.objects.filter(email="maria@example.com").exists()
    assert PendingReply.objects.get().used_at is None


def test_a_party_that_started_meanwhile_records_nothing(private_party, committing, mailoutbox):
    send_reply(Client(), private_party, committing)
    DinnerParty.objects.filter(pk=private_party.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1)
    )
    _, response = open_link(Client(), link_in(mailoutbox[0]), committing)
    assert response.status_code == 400
    assert "already started" in page_text(response)
    assert not RSVP.objects.exists()


def test_a_browser_logged_in_to_another_account_records_nothing(
    private_party, guest_client, committing, mailoutbox
):
    send_reply(Client(), private_party, committing)
    _, response = open_link(guest_client, link_in(mailoutbox[0]), committing)
    assert response.status_code == 400
    assert "logged in to another account" in page_text(response)
    assert not RSVP.objects.exists()


# --- the reply form's fields --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 151, "at most 150 characters"),
        ("name", "Maria\x00", "Null characters are not allowed."),
        ("name", "Maria\x1b[31m", "control characters"),
        ("email", "", "This field is required."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", "a" * 250 + "@example.com", "at most 254 characters"),
        ("email", "maria@example.com\nBcc: x@example.com", "Enter a valid email address."),
        ("status", "", "This field is required."),
        ("status", "waitlisted", "Select a valid choice."),
        ("status", "<script>", "Select a valid choice."),
        ("plus_ones", "", "This field is required."),
        ("plus_ones", "two", "Enter a whole number."),
        ("plus_ones", "6", "less than or equal to 5"),
        ("plus_ones", "-1", "greater than or equal to 0"),
        ("plus_ones", "9" * 40, "less than or equal to 5"),
        ("note", "x" * 201, "at most 200 characters"),
        ("note", "line\nbreak", "control characters"),
    ],
)
def test_bad_input_shows_the_form_again_and_sends_nothing(
    private_party, committing, mailoutbox, field, value, error
):
    response = send_reply(Client(), private_party, committing, **{field: value})

    assert response.status_code == 400
    assert error in page_text(response)
    assert 'value="Maria Lopez"' in response.content.decode() or field == "name"
    assert not mailoutbox
    assert not PendingReply.objects.exists()


def test_hostile_text_is_kept_as_text_and_escaped(private_party, committing, mailoutbox):
    name = "<script>alert(1)</script>"
    send_reply(Client(), private_party, committing, name=name, note="<b>wine</b>")
    page, _ = open_link(Client(), link_in(mailoutbox[0]), committing)

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content.decode()
    assert "<script>alert" not in page.content.decode()
    assert "<script>alert" not in mailoutbox[0].alternatives[0][0]
    assert RSVP.objects.get().note == "<b>wine</b>"
    assert User.objects.get(email="maria@example.com").first_name == name


def test_a_reply_to_a_private_party_without_its_link_is_a_404(private_party, committing):
    response = send_reply(Client(), private_party, committing, invite="")
    assert response.status_code == 404
    other = DinnerPartyFactory(visibility=Visibility.PRIVATE)
    response = send_reply(Client(), private_party, committing, invite=other.invite_token)
    assert response.status_code == 404
    assert not PendingReply.objects.exists()


def test_a_reply_to_a_missing_party_is_a_404(committing):
    response = Client().post(reverse("parties:guest_reply", args=[999999]), {"name": "x"})
    assert response.status_code == 404


def test_a_logged_in_member_is_sent_to_the_party_page(private_party, guest_client, committing):
    response = send_reply(guest_client, private_party, committing)
    assert response.redirect_chain[0][0] == reverse(
        "parties:invite", args=[private_party.invite_token]
    )
    assert not PendingReply.objects.exists()


def test_a_reply_to_a_party_that_has_started_is_refused(host, committing, mailoutbox):
    party = DinnerPartyFactory(host=host)
    party.starts_at = timezone.now() - timedelta(minutes=1)
    party.save()
    response = send_reply(Client(), party, committing, invite="")
    assert "already started" in page_text(response)
    assert not mailoutbox


# --- limits -----------------------------------------------------------------------------


def test_replies_are_limited_per_address(private_party, committing, mailoutbox, settings):
    settings.GUEST_REPLIES_PER_ADDRESS_PER_HOUR = 2
    for _ in range(2):
        send_reply(Client(), private_party, committing)
    response = send_reply(Client(), private_party, committing, email="MARIA@example.com")

    assert response.status_code == 429
    assert "Too many attempts" in page_text(response)
    assert len(mailoutbox) == 2


def test_replies_are_limited_per_ip(private_party, committing, mailoutbox, settings):
    settings.GUEST_REPLIES_PER_IP_PER_HOUR = 2
    for number in range(2):
        send_reply(Client(), private_party, committing, email=f"guest{number}@example.com")
    response = send_reply(Client(), private_party, committing, email="another@example.com")

    assert response.status_code == 429
    assert len(mailoutbox) == 2


# --- keeping the guest account ------------------------------------------------------


@pytest.fixture
def guest_account(db):
    user = UserFactory(username="maria-lopez", email_confirmed_at=timezone.now())
    user.set_unusable_password()
    user.save()
    return user


def test_a_guest_account_sets_a_password_and_keeps_its_session(guest_account, private_party):
    client = client_for(guest_account)
    page = client.get(reverse("keep_account"))
    assert page.status_code == 200
    password = "a-long-new-password-for-maria"
    response = client.post(
        reverse("keep_account"),
        {"new_password1": password, "new_password2": password, "next": "/parties/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/parties/"
    guest_account.refresh_from_db()
    assert guest_account.check_password(password)
    assert client.get(reverse("parties:list")).wsgi_request.user == guest_account


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        ("", "", "This field is required."),
        ("short", "short", "too short"),
        ("a-long-new-password-for-maria", "different-long-password!", "didn’t match"),
        ("x" * 10_000, "x" * 10_000, "This password is too long"),
        ("maria-lopez-guest", "maria-lopez-guest", "too similar"),
        ("a-long-password\x00-with-nul", "a-long-password\x00-with-nul", "Null characters"),
    ],
)
def test_a_bad_password_for_a_guest_account_is_refused(guest_account, first, second, error):
    client = client_for(guest_account)
    response = client.post(
        reverse("keep_account"), {"new_password1": first, "new_password2": second}
    )
    assert response.status_code == 200
    assert error in page_text(response)
    guest_account.refresh_from_db()
    assert not guest_account.has_usable_password()


def test_keeping_an_account_never_redirects_off_site(guest_account):
    client = client_for(guest_account)
    password = "a-long-new-password-for-maria"
    response = client.post(
        reverse("keep_account"),
        {"new_password1": password, "new_password2": password, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("parties:list")


def test_an_account_with_a_password_changes_it_the_usual_way(guest_client):
    response = guest_client.get(reverse("keep_account"))
    assert response["Location"] == reverse("password_change")


def test_the_party_page_offers_nothing_to_accounts_with_a_password(private_party, guest_client):
    page = guest_client.get(reverse("parties:invite", args=[private_party.invite_token]))
    assert "Set a password to keep your account" not in page_text(page)


# --- a closed (inactive) account ------------------------------------------------------


def test_a_reply_link_for_a_closed_guest_account_records_nothing_and_says_why(
    private_party, committing, mailoutbox
):
    closed = UserFactory(email="maria@example.com", is_active=False)
    closed.set_unusable_password()
    closed.save()
    send_reply(Client(), private_party, committing)
    visitor = Client()

    page, response = open_link(visitor, link_in(mailoutbox[-1]), committing)

    assert page.status_code == 200
    assert response.status_code == 400
    text = page_text(response)
    assert "The account for this email address has been closed, so it can't reply." in text
    assert "Nothing was recorded." in text
    assert "_auth_user_id" not in visitor.session
    assert not RSVP.objects.exists()
    assert PendingReply.objects.get().used_at is None
    assert_seats_consistent()


# --- what opening a link costs (issue 20, item 7) --------------------------------------

# Statements besides BEGIN / COMMIT / savepoints, for a new address: the waiting reply
# (under its lock), the address's account and the usernames taken (one query), the
# new account (its login time with it), the reply marked used, the party under its
# lock, the guest's reply (none looked up: the account is new), the seats, the queued
# email, and the new session's row (one INSERT: no empty row first, no UPDATE after).
REPLY_BY_LINK_STATEMENTS = 9
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "orm"])
def test_opening_a_link_for_a_new_address_runs_a_fixed_set_of_statements(
    private_party, committing, settings, task_queue, compiled
):
    settings.COMPILED_QUERIES = compiled
    private_party.seats = 10
    private_party.save()
    reply, link = waiting_reply(private_party, name="Maria Lopez", email="maria@example.com")
    visitor = Client()
    with CaptureQueriesContext(connection) as captured, committing():
        response = visitor.post(link)

    assert response.status_code == 302
    statements = [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)
    ]
    assert len(statements) == REPLY_BY_LINK_STATEMENTS, "\n".join(statements)
    assert not [sql for sql in statements if "otp_totp_totpdevice" in sql]  # a new account
    assert sum(sql.startswith("UPDATE") for sql in statements) == 2  # used_at, the seats
    guest = User.objects.get(email="maria@example.com")
    assert guest.last_login is not None  # written with the account, not after
    assert RSVP.objects.get(guest=guest, party=private_party).status == RSVPStatus.GOING
    assert visitor.get(response["Location"]).wsgi_request.user == guest  # logged in
    assert PendingReply.objects.get(pk=reply.pk).used_at is not None
    assert_seats_consistent()


def test_a_guest_account_with_an_authenticator_app_is_never_logged_in_by_a_link(
    private_party, committing
):
    """The knowledge that skips the second-factor lookup is only ever the service's
    own: an account found with a device is refused before any login."""
    guest = UserFactory(email="maria@example.com")
    guest.set_unusable_password()
    guest.save()
    TOTPDevice.objects.create(user=guest, name="phone", confirmed=True)
    visitor = Client()
    _reply, link = waiting_reply(private_party, name="Maria", email="maria@example.com")
    with committing():
        response = visitor.post(link)
    assert response.status_code == 400
    assert "_auth_user_id" not in visitor.session
    assert not RSVP.objects.filter(guest=guest).exists()


def test_a_normal_login_still_records_its_time(client):
    user = UserFactory(last_login=None)
    client.force_login(user)
    user.refresh_from_db()
    assert user.last_login is not None
