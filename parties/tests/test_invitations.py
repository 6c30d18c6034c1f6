"""Invitations by email: hosts paste addresses, each invitee gets a personal link
that opens the party and takes a one-tap reply without a password, and the hosts
see who answered."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import verification
from accounts.tests.factories import UserFactory
from parties import services
from parties.invitations import parse_addresses
from parties.models import (
    RSVP,
    DeliveryStatus,
    DinnerParty,
    EmailDelivery,
    Invitation,
    InvitationState,
    RSVPStatus,
    Visibility,
)
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

PERSONAL_LINK = re.compile(r"http://[^/\s]+(/parties/invitation/[A-Za-z0-9_-]+/)")
THREE = 'Maria Lopez <maria@example.com>\nbob@example.com\n"Chloé D." <chloe@example.com>'


@pytest.fixture
def private_party(host):
    return DinnerPartyFactory(
        host=host,
        title="Secret supper",
        visibility=Visibility.PRIVATE,
        hide_address=True,
        venue="12 Rue des Lilas",
        area="Belleville",
        seats=3,
    )


def invite(client, party, text: str, committing):
    with committing():
        return client.post(
            reverse("parties:invitations", args=[party.pk]), {"invite-addresses": text}
        )


def link_for(mailoutbox, address: str) -> str:
    [message] = [m for m in mailoutbox if m.to == [address]][-1:]
    found = PERSONAL_LINK.search(message.body)
    assert found, message.body
    return found.group(1)


# --- reading a paste ------------------------------------------------------------------


def test_a_paste_reads_names_bare_and_quoted_addresses_and_merges_repeats():
    pasted = parse_addresses(
        f"{THREE}\n\n  MARIA@example.com  \nMaria <maria@example.com>\nBob B <bob@example.com>"
    )
    assert pasted.valid == [
        ("Maria Lopez", "maria@example.com"),
        ("Bob B", "bob@example.com"),
        ("Chloé D.", "chloe@example.com"),
    ]
    assert pasted.merged == 3
    assert pasted.invalid == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not an address", "not an email address"),
        ("Maria <>", "no email address"),
        ("Maria <maria@@example.com>", "not an email address"),
        ("a" * 250 + "@example.com", "longer than 254"),
        ("x" * 151 + " <x@example.com>", "name is longer than 150"),
        ("Maria\x1b <maria@example.com>", "control characters"),
        ("<script>alert(1)</script>", "not an email address"),
        ("maria@example.com, ben@example.com", "not an email address"),
    ],
)
def test_a_line_that_is_not_an_address_comes_back_with_its_reason(line, reason):
    pasted = parse_addresses(f"ok@example.com\n{line}")
    assert pasted.valid == [("", "ok@example.com")]
    [(shown, why)] = pasted.invalid
    assert shown == line.strip()
    assert reason in why


# --- the hosts' paste ---------------------------------------------------------------


def test_a_host_invites_three_addresses_each_with_a_personal_link(
    private_party, host_client, committing, mailoutbox
):
    response = invite(host_client, private_party, THREE, committing)

    assert response.status_code == 302
    assert response["Location"] == private_party.get_absolute_url()
    assert "3 invitations are on their way." in flash_messages(response)
    assert sorted(m.to[0] for m in mailoutbox) == [
        "bob@example.com",
        "chloe@example.com",
        "maria@example.com",
    ]
    message = next(m for m in mailoutbox if m.to == ["maria@example.com"])
    assert message.subject.startswith("Ana")
    assert "invites you to “Secret supper”" in message.subject
    assert "Belleville" in message.body
    assert "Rue des Lilas" not in message.body
    links = {link_for(mailoutbox, m.to[0]) for m in mailoutbox}
    assert len(links) == 3  # each its own
    for invitation in Invitation.objects.all():
        assert invitation.state == InvitationState.INVITED
        assert invitation.sent_at is not None
        assert invitation.delivery.status == DeliveryStatus.SENT
    assert Invitation.objects.get(email="maria@example.com").name == "Maria Lopez"


def test_the_paste_box_explains_the_format_as_text(private_party, host_client):
    page = host_client.get(private_party.get_absolute_url())
    assert "One a line: “Name &lt;address&gt;” or the address alone" in page.content.decode()


def test_bad_lines_come_back_with_reasons_and_the_good_ones_go(
    private_party, host_client, committing, mailoutbox
):
    response = invite(
        host_client, private_party, "maria@example.com\nnot an address\nBob <bob@@x>", committing
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "not an address — not an email address" in text
    assert "Bob <bob@@x> — not an email address" in text
    assert "1 invitation is on its way." in flash_messages(response)
    assert [m.to for m in mailoutbox] == [["maria@example.com"]]
    box = response.content.decode()
    assert "not an address\nBob &lt;bob@@x&gt;</textarea>" in box


def test_an_address_invited_before_is_not_invited_twice(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, "maria@example.com", committing)
    response = invite(host_client, private_party, "MARIA@example.com\nbob@example.com", committing)

    assert Invitation.objects.count() == 2
    assert len(mailoutbox) == 2
    assert any("already on the list" in text for text in flash_messages(response))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "This field is required."),
        ("   \n  \n", "This field is required."),
        ("x" * 20_001, "at most 20000 characters"),
        ("maria@example.com\x00", "Null characters are not allowed."),
        ("maria@example.com\x07", "control characters"),
        (
            "\n".join(f"guest{i}@example.com" for i in range(51)),
            "Paste at most 50 addresses at a time (51 given).",
        ),
    ],
)
def test_a_paste_the_form_refuses_sends_nothing(
    private_party, host_client, committing, mailoutbox, text, error
):
    response = invite(host_client, private_party, text, committing)
    assert response.status_code == 400
    assert error in page_text(response)
    assert not Invitation.objects.exists()
    assert not mailoutbox


def test_a_paste_as_a_list_of_values_takes_the_last_and_never_errors(
    private_party, host_client, committing, mailoutbox
):
    with committing():
        response = host_client.post(
            reverse("parties:invitations", args=[private_party.pk]),
            {"invite-addresses": ["first@example.com", "second@example.com"]},
        )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["second@example.com"]]


def test_a_host_sends_at_most_200_invitations_a_day(host, host_client, committing, mailoutbox):
    for number in range(4):
        party = DinnerPartyFactory(host=host)
        addresses = [("", f"p{number}g{i}@example.com") for i in range(48)]
        services.invitations_send(party=party, by=host, addresses=addresses)
    party = DinnerPartyFactory(host=host)
    mailoutbox.clear()

    response = invite(
        host_client, party, "\n".join(f"late{i}@example.com" for i in range(9)), committing
    )

    assert response.status_code == 400
    assert "You can send 200 invitations a day: 8 left today" in page_text(response)
    assert not Invitation.objects.filter(party=party).exists()
    assert not mailoutbox


def test_co_hosts_invite_too(private_party, committing, mailoutbox):
    cohost = UserFactory()
    services.cohost_add(party=private_party, user=cohost)
    response = invite(client_for(cohost), private_party, "maria@example.com", committing)
    assert response.status_code == 302
    assert Invitation.objects.get().invited_by == cohost


def test_guests_and_strangers_cannot_invite(
    private_party, guest, guest_client, committing, mailoutbox
):
    going(private_party, guest)  # at the table, but not a host
    assert invite(guest_client, private_party, "x@example.com", committing).status_code == 404
    missing = DinnerParty(pk=999_999)
    assert invite(guest_client, missing, "x@example.com", committing).status_code == 404
    anonymous = invite(Client(), private_party, "x@example.com", committing)
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]
    assert not Invitation.objects.exists()


def test_invitations_from_an_unconfirmed_host_wait_for_the_address(
    private_party, host, committing, mailoutbox
):
    host.email_confirmed_at = None
    host.save()
    client = client_for(host)

    response = invite(client, private_party, "maria@example.com", committing)
    assert any("once you confirm your email address" in t for t in flash_messages(response))
    assert not mailoutbox
    assert Invitation.objects.get().state == InvitationState.HELD
    page = client.get(private_party.get_absolute_url())
    assert "Invitations wait until you confirm your email address" in page_text(page)
    assert "Waiting for your address to be confirmed" in page_text(page)

    with committing():
        verification.confirm(host)
    assert [m.to for m in mailoutbox] == [["maria@example.com"]]
    assert Invitation.objects.get().state == InvitationState.INVITED


# --- the personal link ------------------------------------------------------------


def test_the_personal_link_opens_a_private_party_and_the_browsers_script_marks_it_opened(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, THREE, committing)
    link = link_for(mailoutbox, "maria@example.com")
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(link)

    assert page.status_code == 200
    text = page_text(page)
    assert "Maria Lopez, you're invited" in text
    assert "Secret supper" in text
    assert "Belleville" in text
    assert "Rue des Lilas" not in text
    # The page's GET wrote nothing; its script posts back that a browser showed it.
    assert Invitation.objects.get(email="maria@example.com").state == InvitationState.INVITED
    markup = page.content.decode()
    opened = reverse("parties:invitation_opened", args=[link.split("/")[-2]])
    assert f'data-opened-url="{opened}"' in markup
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', markup).group(1)
    assert browser.post(opened, HTTP_X_CSRFTOKEN=token).status_code == 204
    assert Invitation.objects.get(email="maria@example.com").state == InvitationState.OPENED
    assert Invitation.objects.get(email="bob@example.com").state == InvitationState.INVITED


def test_a_mail_scanner_fetching_the_personal_link_does_not_mark_it_opened(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, THREE, committing)
    link = link_for(mailoutbox, "maria@example.com")

    for _ in range(3):  # scanners often fetch a link more than once
        assert Client().get(link).status_code == 200
        assert Client().head(link).status_code == 200

    invitation = Invitation.objects.get(email="maria@example.com")
    assert (invitation.state, invitation.opened_at) == (InvitationState.INVITED, None)


def test_the_opened_signal_takes_only_a_post_with_a_csrf_token_for_a_real_invitation(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, THREE, committing)
    token = link_for(mailoutbox, "maria@example.com").split("/")[-2]
    opened = reverse("parties:invitation_opened", args=[token])

    assert Client().get(opened).status_code == 405
    assert Client(enforce_csrf_checks=True).post(opened).status_code == 403
    assert Client().post(reverse("parties:invitation_opened", args=["nope"])).status_code == 404
    assert Client().post(f"/parties/invitation/{'x' * 65}/opened/").status_code == 404
    assert Invitation.objects.get(email="maria@example.com").state == InvitationState.INVITED
    # Twice is once: "opened" keeps its first time, and a reply is not undone.
    assert Client().post(opened).status_code == 204
    first = Invitation.objects.get(email="maria@example.com").opened_at
    assert Client().post(opened).status_code == 204
    assert Invitation.objects.get(email="maria@example.com").opened_at == first


def test_one_tap_on_going_seats_a_guest_with_no_account(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, THREE, committing)
    link = link_for(mailoutbox, "maria@example.com")
    visitor = Client()
    visitor.get(link)

    with committing():
        response = visitor.post(link, {"status": "going"})

    assert response.status_code == 302
    assert response["Location"] == private_party.get_absolute_url()
    guest = User.objects.get(email="maria@example.com")
    assert guest.username == "maria-lopez"
    assert not guest.has_usable_password()
    assert RSVP.objects.get(guest=guest).status == RSVPStatus.GOING
    assert_seats_consistent()
    invitation = Invitation.objects.get(email="maria@example.com")
    assert invitation.state == InvitationState.REPLIED
    assert invitation.guest == guest
    party_page = visitor.get(response["Location"])  # a private party, through the reply
    assert party_page.status_code == 200
    assert "12 Rue des Lilas" in page_text(party_page)


def test_a_full_party_puts_the_invitee_on_the_waitlist(
    private_party, host_client, committing, mailoutbox
):
    going(private_party, UserFactory(), plus_ones=2)
    invite(host_client, private_party, "maria@example.com", committing)
    with committing():
        Client().post(link_for(mailoutbox, "maria@example.com"), {"status": "going"})
    assert RSVP.objects.get(guest__email="maria@example.com").status == RSVPStatus.WAITLISTED


def test_an_invitee_with_a_password_account_logs_in_first(
    private_party, host_client, committing, mailoutbox
):
    member = UserFactory(email="ben@example.com")
    invite(host_client, private_party, "ben@example.com", committing)
    link = link_for(mailoutbox, "ben@example.com")

    visitor = Client()
    response = visitor.post(link, {"status": "going"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in visitor.session
    assert not RSVP.objects.exists()

    with committing():
        response = client_for(member).post(link, {"status": "maybe"})
    assert response.status_code == 302
    assert RSVP.objects.get(guest=member).status == RSVPStatus.MAYBE


def test_another_account_cannot_answer_someone_elses_invitation(
    private_party, host_client, guest_client, committing, mailoutbox
):
    invite(host_client, private_party, "maria@example.com", committing)
    response = guest_client.post(link_for(mailoutbox, "maria@example.com"), {"status": "going"})
    assert response.status_code == 400
    assert "This invitation is for another account" in page_text(response)
    assert not RSVP.objects.exists()


@pytest.mark.parametrize("token", ["wrong", "x" * 65, "%00", "a b"])
def test_a_wrong_personal_link_is_a_404(private_party, token):
    assert Client().get(f"/parties/invitation/{token}/").status_code == 404


def test_a_held_invitations_link_is_a_404(private_party, host):
    host.email_confirmed_at = None
    host.save()
    services.invitations_send(party=private_party, by=host, addresses=[("", "m@example.com")])
    assert Client().get(Invitation.objects.get().get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "This field is required."),
        ({"status": "waitlisted"}, "Select a valid choice."),
        ({"status": "<script>"}, "Select a valid choice."),
        ({"status": "going", "plus_ones": "two"}, "Enter a whole number."),
        ({"status": "going", "plus_ones": "6"}, "less than or equal to 5"),
        ({"status": "going", "plus_ones": "9" * 30}, "less than or equal to 5"),
        ({"status": "going", "note": "x" * 201}, "at most 200 characters"),
        ({"status": "going", "note": "a\x1bb"}, "control characters"),
    ],
)
def test_a_bad_reply_through_the_personal_link_records_nothing(
    private_party, host_client, committing, mailoutbox, data, error
):
    invite(host_client, private_party, "maria@example.com", committing)
    response = Client().post(link_for(mailoutbox, "maria@example.com"), data)
    assert response.status_code == 400
    assert error in page_text(response)
    assert not RSVP.objects.exists()
    assert not User.objects.filter(email="maria@example.com").exists()


def test_a_reply_after_the_party_started_records_nothing(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, "maria@example.com", committing)
    link = link_for(mailoutbox, "maria@example.com")
    DinnerParty.objects.filter(pk=private_party.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1)
    )
    response = Client().post(link, {"status": "going"})
    assert response.status_code == 400
    assert "already started" in page_text(response)
    assert not User.objects.filter(email="maria@example.com").exists()


def test_hostile_names_are_shown_as_text(private_party, host_client, committing, mailoutbox):
    invite(host_client, private_party, '"<b>Bob</b>" <bob@example.com>', committing)
    assert Invitation.objects.get().name == "<b>Bob</b>"
    page = host_client.get(private_party.get_absolute_url()).content.decode()
    assert "&lt;b&gt;Bob&lt;/b&gt;" in page
    assert "<b>Bob</b>" not in page


# --- the hosts' table and reminders -------------------------------------------------


def states(client, party) -> dict[str, str]:
    page = client.get(party.get_absolute_url())
    return {i.email: i.shown[0] for i in page.context["invitations"]}


def test_the_hosts_see_each_invitees_state(private_party, host_client, committing, mailoutbox):
    invite(host_client, private_party, THREE + "\ndan@example.com", committing)
    bob = link_for(mailoutbox, "bob@example.com")
    Client().post(reverse("parties:invitation_opened", args=[bob.split("/")[-2]]))  # his browser
    with committing():
        Client().post(link_for(mailoutbox, "maria@example.com"), {"status": "going"})
    chloe = Invitation.objects.get(email="chloe@example.com")
    EmailDelivery.objects.filter(pk=chloe.delivery_id).update(status=DeliveryStatus.FAILED)

    assert states(host_client, private_party) == {
        "maria@example.com": "Going",
        "bob@example.com": "Opened",
        "chloe@example.com": "Email bounced",
        "dan@example.com": "Invited",
    }
    assert "Remind those who haven't answered" in page_text(
        host_client.get(private_party.get_absolute_url())
    )


def test_remind_reaches_only_those_who_havent_answered_once_a_day(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, THREE, committing)
    with committing():
        Client().post(link_for(mailoutbox, "maria@example.com"), {"status": "declined"})
    chloe = Invitation.objects.get(email="chloe@example.com")
    EmailDelivery.objects.filter(pk=chloe.delivery_id).update(status=DeliveryStatus.FAILED)
    mailoutbox.clear()
    remind = reverse("parties:invitations_remind", args=[private_party.pk])

    with committing():
        response = host_client.post(remind)
    assert "Reminded 1 invitee who hasn't answered." in flash_messages(response)
    assert [(m.to, m.subject.startswith("Reminder:")) for m in mailoutbox] == [
        (["bob@example.com"], True)
    ]
    with committing():
        again = host_client.post(remind)
    assert "less than a day ago" in " ".join(flash_messages(again))
    assert len(mailoutbox) == 1
    assert "Remind those who haven't answered" not in page_text(
        host_client.get(private_party.get_absolute_url())
    )


def test_only_the_hosts_can_remind(private_party, guest_client, committing):
    remind = reverse("parties:invitations_remind", args=[private_party.pk])
    assert guest_client.post(remind).status_code == 404
    assert guest_client.post(reverse("parties:invitations_remind", args=[99999])).status_code == 404


# --- the members' list ----------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 12])
def test_members_see_their_pending_invitations_with_a_fixed_number_of_queries(
    host, guest, guest_client, size, django_assert_max_num_queries, django_assert_num_queries
):
    for number in range(size):
        party = DinnerPartyFactory(host=host, title=f"Supper {number}", visibility="private")
        services.invitations_send(party=party, by=host, addresses=[("", guest.email.upper())])
    with django_assert_max_num_queries(4):
        first = guest_client.get(reverse("parties:list"))
    assert "Invitations waiting for your reply" in page_text(first)
    assert page_text(first).count("Supper ") == min(size, 10)
    with django_assert_num_queries(2):
        guest_client.get(reverse("parties:list"))


def test_an_answered_invitation_leaves_the_list(host, guest, guest_client, committing):
    party = DinnerPartyFactory(host=host, title="Supper")
    services.invitations_send(party=party, by=host, addresses=[("", guest.email)])
    assert "Invitations waiting" in page_text(guest_client.get(reverse("parties:list")))
    with committing():
        guest_client.post(Invitation.objects.get().get_absolute_url(), {"status": "going"})
    assert "Invitations waiting" not in page_text(guest_client.get(reverse("parties:list")))


def test_a_personal_link_for_a_closed_account_records_nothing_and_says_why(
    private_party, host_client, committing, mailoutbox
):
    closed = UserFactory(email="maria@example.com", is_active=False)
    closed.set_unusable_password()
    closed.save()
    invite(host_client, private_party, THREE, committing)
    visitor = Client()

    with committing():
        response = visitor.post(link_for(mailoutbox, "maria@example.com"), {"status": "going"})

    assert response.status_code == 400
    assert "The account for this email address has been closed" in page_text(response)
    assert "_auth_user_id" not in visitor.session
    assert not RSVP.objects.filter(party=private_party).exists()
    assert Invitation.objects.get(email="maria@example.com").state == InvitationState.INVITED
    assert_seats_consistent()


def test_the_personal_link_says_when_to_reply_by_and_when_replies_have_closed(
    private_party, host_client, committing, mailoutbox
):
    invite(host_client, private_party, THREE, committing)
    link = link_for(mailoutbox, "maria@example.com")
    reply_by = private_party.starts_at - timedelta(days=1)
    DinnerParty.objects.filter(pk=private_party.pk).update(reply_by=reply_by)
    private_party.reply_by = reply_by

    assert f"Reply by {private_party.reply_by_text}" in page_text(Client().get(link))

    closed = timezone.now() - timedelta(minutes=1)
    DinnerParty.objects.filter(pk=private_party.pk).update(reply_by=closed)
    private_party.reply_by = closed
    page = Client().get(link)
    assert f"Replies closed on {private_party.reply_by_text}." in page_text(page)
    assert 'value="going"' not in page.content.decode()
