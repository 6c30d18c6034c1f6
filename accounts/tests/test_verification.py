"""Confirmed email addresses: the link sign-up sends (signed, 24 hours, once),
nothing else to an address until it is confirmed, messages to guests held until
then, addresses released after 7 days, and changing the address."""

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertRedirects

from accounts import verification
from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.helpers import register_data
from dinnerparty.logging import redact
from parties import notifications, services
from parties.models import Announcement, RSVPStatus
from parties.tests.factories import DinnerPartyFactory
from parties.tests.helpers import page_text

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/email/confirm/[^/\s]+/)")
NEW_PASSWORD = "a-brand-new-table-for-eight-7"
HELD = "Your message will be emailed once you confirm your address."


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what's inside as if its transaction committed (emails are sent then)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def newcomer(db):
    """Signed up a minute ago; has not opened the link yet."""
    return UserFactory(username="nina", email="nina@example.com", unconfirmed=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sign_up(client, committing, **overrides):
    with committing():
        return client.post(reverse("register"), register_data(**overrides), follow=True)


def link_in(message) -> str:
    """The confirmation link in an email, as a path (the same in both bodies)."""
    path = CONFIRM_LINK.search(message.body)[1]
    html_body = message.alternatives[0].content
    assert path in html_body
    return path


def link_for(user: User) -> str:
    return reverse("email_confirm", args=[verification.link_token(user)])


def confirm(client, link: str, committing):
    with committing():
        return client.post(link, follow=True)


def reloaded(user: User) -> User:
    return User.objects.get(pk=user.pk)


def recipients(mailoutbox) -> list[str]:
    return [address for message in mailoutbox for address in message.to]


def profile_data(**overrides) -> dict[str, str]:
    data = {
        "first_name": "Nina",
        "last_name": "",
        "email": "nina@example.com",
        "dietary_notes": "",
        "timezone": "UTC",
        "current_password": "",
    }
    data.update(overrides)
    return data


def change_email(client, committing, address, password=DEFAULT_PASSWORD, **overrides):
    with committing():
        return client.post(
            reverse("profile"),
            profile_data(email=address, current_password=password, **overrides),
        )


# --- Signing up ----------------------------------------------------------------------


def test_signing_up_sends_exactly_the_confirmation(client, committing, mailoutbox):
    response = sign_up(client, committing)

    bruno = User.objects.get(username="bruno")
    assert not bruno.email_confirmed
    assert len(mailoutbox) == 1
    [message] = mailoutbox
    assert message.to == ["bruno@example.com"]
    assert message.subject == "Confirm your email address for DinnerParty"
    assert link_in(message)
    assert "works once, for 24 hours" in message.body
    text = page_text(response)
    assert "Welcome to DinnerParty, bruno!" in text
    assert "We've sent a link to bruno@example.com" in text


def test_the_link_asks_before_it_confirms_and_confirms_on_post(client, committing, mailoutbox):
    sign_up(client, committing)
    link = link_in(mailoutbox[0])

    page = client.get(link)
    assert page.status_code == 200
    assert "Is bruno@example.com yours?" in page_text(page)
    assert not User.objects.get(username="bruno").email_confirmed  # a GET writes nothing

    response = confirm(client, link, committing)

    assertRedirects(response, reverse("profile"))
    assert "Thanks! bruno@example.com is confirmed." in page_text(response)
    assert User.objects.get(username="bruno").email_confirmed
    assert "Please confirm your email address" not in page_text(response)


def test_a_visitor_who_is_not_logged_in_can_confirm(newcomer, committing):
    response = confirm(Client(), link_for(newcomer), committing)

    assertRedirects(response, reverse("login"))
    assert "Thanks! nina@example.com is confirmed." in page_text(response)
    assert reloaded(newcomer).email_confirmed


def test_a_link_works_for_24_hours(newcomer, committing):
    link = link_for(newcomer)

    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=59)):
        assert "Is nina@example.com yours?" in page_text(Client().get(link))
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        client = client_for(newcomer)
        expired = client.get(link)
        posted = confirm(client, link, committing)

    assert expired.status_code == posted.status_code == 200
    assert "This link has expired: links work for 24 hours." in page_text(expired)
    assert "Send me a new link" in page_text(expired)  # logged in: one button away
    assert "expired" in page_text(posted)
    assert not reloaded(newcomer).email_confirmed


def test_a_link_works_once(newcomer, committing):
    client = client_for(newcomer)
    link = link_for(newcomer)
    confirm(client, link, committing)
    confirmed_at = reloaded(newcomer).email_confirmed_at

    again = client.get(link)
    posted_again = confirm(client, link, committing)

    assert again.status_code == posted_again.status_code == 200
    assert "This address is already confirmed" in page_text(again)
    assert "Thanks!" not in page_text(posted_again)
    assert reloaded(newcomer).email_confirmed_at == confirmed_at


def test_asking_for_another_address_puts_the_older_link_out_of_date(newcomer, committing):
    client = client_for(newcomer)
    older = link_for(newcomer)
    change_email(client, committing, "nina@example.org")

    response = client.get(older)

    assert "This link is out of date" in page_text(response)
    assert "Send me a new link" in page_text(response)
    assert confirm(client, older, committing).status_code == 200
    assert not reloaded(newcomer).email_confirmed


@pytest.mark.parametrize(
    "token",
    [
        "sample",
        "abc:def:ghi",
        "x" * 5000,
        "<img src=x onerror=alert(1)>",
        "%00",
        "ünïcødé",
        signing.dumps({"u": "1", "f": "x", "a": "x"}, salt="another.salt"),
        signing.dumps({"u": [1], "f": "x", "a": "x"}, salt=verification.SALT),
        signing.dumps({"nothing": "here"}, salt=verification.SALT),
        signing.dumps({"u": 10**30, "f": "x", "a": "x"}, salt=verification.SALT),
    ],
    # Fixed ids: a signed token carries the time it was made, and every test
    # process (pytest-xdist) must name the same tests.
    ids=[
        "plain-word",
        "three-parts",
        "very-long",
        "html",
        "nul-escaped",
        "unicode",
        "other-salt",
        "user-id-a-list",
        "no-fields",
        "user-id-out-of-range",
    ],
)
def test_a_link_we_did_not_make_says_so_and_confirms_nothing(newcomer, committing, token):
    client = Client()
    link = reverse("email_confirm", args=[token])

    shown, posted = client.get(link), confirm(client, link, committing)

    assert shown.status_code == posted.status_code == 200
    assert "This link isn't one of ours" in page_text(shown)
    assert "Log in and we'll offer to send you a new link." in page_text(shown)
    assert "<img src=x" not in shown.content.decode()
    assert not reloaded(newcomer).email_confirmed
    assert client_for(newcomer).get(link).status_code == 200


def test_a_tampered_link_confirms_nothing(newcomer, committing):
    token = verification.link_token(newcomer)
    payload, stamp, signature = token.split(":")
    other = UserFactory(unconfirmed=True)
    forged = signing.b64_encode(f'{{"u":{other.pk},"f":"x","a":"x"}}'.encode()).decode()
    for tampered in (
        f"{payload}:{stamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{forged}:{stamp}:{signature}",
        f"{payload}:{signing.b62_encode(signing.b62_decode(stamp) + 86400)}:{signature}",
    ):
        response = confirm(Client(), reverse("email_confirm", args=[tampered]), committing)
        assert "This link isn't one of ours" in page_text(response)

    assert not reloaded(newcomer).email_confirmed
    assert not reloaded(other).email_confirmed


def test_another_accounts_link_does_nothing_for_whoever_is_logged_in(newcomer, committing):
    someone_else = client_for(UserFactory(unconfirmed=True))
    link = link_for(newcomer)

    shown, posted = someone_else.get(link), confirm(someone_else, link, committing)

    assert shown.status_code == posted.status_code == 200
    assert "confirms the address of another account" in page_text(shown)
    assert not reloaded(newcomer).email_confirmed


def test_a_deleted_accounts_link_says_so(newcomer, committing):
    link = link_for(newcomer)
    newcomer.delete()

    assert "This link isn't one of ours" in page_text(confirm(Client(), link, committing))


def test_the_link_is_cut_short_in_the_logs(newcomer):
    link = link_for(newcomer)
    token = link.split("/")[-2]

    line = redact(f'"POST {link} HTTP/1.1" 302')

    assert token not in line
    assert f"/accounts/email/confirm/{token[:4]}…" in line


# --- Sending the link again ----------------------------------------------------------


def resend(client, committing, next_url="/parties/"):
    with committing():
        return client.post(reverse("email_confirm_resend"), {"next": next_url})


def test_the_banner_asks_an_unconfirmed_user_to_confirm(newcomer):
    page = client_for(newcomer).get(reverse("parties:list"))

    text = page_text(page)
    assert "Please confirm your email address: open the link we sent to nina@example.com." in text
    assert reverse("email_confirm_resend") in page.content.decode()
    assert "Please confirm" not in page_text(client_for(UserFactory()).get(reverse("parties:list")))


def test_resending_sends_a_new_link_and_goes_back(newcomer, committing, mailoutbox):
    response = resend(client_for(newcomer), committing, "/parties/")

    assertRedirects(response, "/parties/")
    assert recipients(mailoutbox) == ["nina@example.com"]
    assert confirm(Client(), link_in(mailoutbox[0]), committing).status_code == 200
    assert reloaded(newcomer).email_confirmed


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "", "x" * 3000]
)
def test_resending_goes_back_only_to_a_page_of_this_site(newcomer, committing, next_url):
    assertRedirects(
        resend(client_for(newcomer), committing, next_url),
        reverse("profile"),
        fetch_redirect_response=False,
    )


@pytest.mark.parametrize(("next_url", "location"), [("°", "%C2%B0"), ("home", "home")])
def test_resending_with_a_next_that_is_no_path_is_no_500(next_url, location):
    response = client_for(UserFactory()).post(reverse("email_confirm_resend"), {"next": next_url})
    assert response.status_code == 302
    assert response.url == location  # a relative path on this site, never a view's name


def test_resending_is_limited_per_account(newcomer, committing, mailoutbox, settings):
    settings.EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR = 3
    client = client_for(newcomer)
    for _ in range(3):
        assert resend(client, committing).status_code == 302

    refused = resend(client, committing)

    assert refused.status_code == 429
    assert "Too many attempts. Please try again in 60 minutes." in page_text(refused)
    assert len(mailoutbox) == 3
    # A new browser (or a new session) doesn't help: the count is the account's.
    assert resend(client_for(newcomer), committing).status_code == 429


def test_the_sign_up_link_counts_against_the_limit(client, committing, mailoutbox, settings):
    settings.EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR = 2
    sign_up(client, committing)

    assert resend(client, committing).status_code == 302
    assert resend(client, committing).status_code == 429
    assert len(mailoutbox) == 2


def test_nothing_is_resent_to_a_confirmed_address(committing, mailoutbox):
    response = resend(client_for(UserFactory()), committing)

    assert response.status_code == 302
    assert mailoutbox == []


def test_resending_is_a_post_for_logged_in_users(client, newcomer):
    assert client_for(newcomer).get(reverse("email_confirm_resend")).status_code == 405
    assert client.post(reverse("email_confirm_resend")).status_code == 302  # to the login
    assert client.post(reverse("email_confirm_resend"))["Location"].startswith(reverse("login"))


# --- Nothing else goes to an unconfirmed address ----------------------------------------


def test_an_unconfirmed_guests_reply_works_but_emails_only_the_host(
    newcomer, committing, mailoutbox
):
    host = UserFactory(email="host@example.com")
    party = DinnerPartyFactory(host=host, seats=4)

    with committing():
        response = client_for(newcomer).post(
            reverse("parties:rsvp", args=[party.pk]),
            {"status": "going", "plus_ones": "1", "note": "wine"},
        )

    assert response.status_code == 302
    party.refresh_from_db()
    assert party.seats_taken == 2
    assert party.rsvps.get(guest=newcomer).status == RSVPStatus.GOING
    assert recipients(mailoutbox) == ["host@example.com"]


def test_an_unconfirmed_host_hears_nothing_of_replies(newcomer, committing, mailoutbox):
    party = DinnerPartyFactory(host=newcomer)
    guest = UserFactory(email="guest@example.com")

    with committing():
        services.rsvp_submit(party=party, guest=guest, status="going")

    assert recipients(mailoutbox) == ["guest@example.com"]


def test_an_unconfirmed_guest_gets_no_promotion_reminder_change_or_cancellation(
    newcomer, committing, mailoutbox
):
    party = DinnerPartyFactory(seats=1)
    confirmed = UserFactory(email="seated@example.com")
    services.rsvp_submit(party=party, guest=confirmed, status="going")
    services.rsvp_submit(party=party, guest=newcomer, status="going")  # waitlisted
    mailoutbox.clear()

    with committing():
        services.rsvp_submit(party=party, guest=confirmed, status="maybe")  # newcomer promoted
    assert party.rsvps.get(guest=newcomer).status == RSVPStatus.GOING
    notifications.send_reminder_email.enqueue(party.rsvps.get(guest=newcomer).pk)
    with committing():
        services.party_update(party=party, changes={"venue": "Somewhere else"})
    with committing():
        services.party_delete(party=party)

    assert "nina@example.com" not in recipients(mailoutbox)
    assert recipients(mailoutbox).count("seated@example.com") == 3  # reply, change, cancel


def test_no_password_reset_goes_to_an_unconfirmed_address(client, newcomer, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nina@example.com"}, follow=True)

    assert "If an account exists for that address, we've sent a link" in page_text(response)
    assert mailoutbox == []


# --- Messages to guests wait for the host's address -------------------------------------


@pytest.fixture
def newcomers_party(newcomer):
    party = DinnerPartyFactory(host=newcomer, title="Nina's dumplings")
    for address in ("amy@example.com", "bob@example.com"):
        services.rsvp_submit(party=party, guest=UserFactory(email=address), status="going")
    return party


def test_an_unconfirmed_hosts_message_is_posted_and_held_then_sent_on_confirming(
    newcomer, newcomers_party, committing, mailoutbox
):
    client = client_for(newcomer)
    mailoutbox.clear()

    with committing():
        posted = client.post(
            reverse("parties:announce", args=[newcomers_party.pk]),
            {"audience": "going", "text": "Bring chopsticks"},
            follow=True,
        )

    text = page_text(posted)
    assert "It will be emailed once you confirm your address." in text
    assert "Bring chopsticks" in text
    assert HELD in text
    assert mailoutbox == []
    assert Announcement.objects.get().emailed_at is None

    confirm(client, link_for(newcomer), committing)

    assert sorted(recipients(mailoutbox)) == ["amy@example.com", "bob@example.com"]
    assert "Bring chopsticks" in mailoutbox[0].body
    assert Announcement.objects.get().emailed_at is not None
    assert HELD not in page_text(client.get(newcomers_party.get_absolute_url()))


def test_a_held_message_goes_once(newcomer, newcomers_party, committing, mailoutbox):
    services.announce(party=newcomers_party, author=newcomer, audience="going", text="Hi")
    User.objects.filter(pk=newcomer.pk).update(email_confirmed_at=timezone.now())
    mailoutbox.clear()

    with committing():
        # Confirming sends it; a copy still queued from posting it finds it sent.
        services.send_held_announcements(author=newcomer)
        services.send_held_announcements(author=newcomer)
        notifications.send_announcement.enqueue(Announcement.objects.get().pk)

    assert sorted(recipients(mailoutbox)) == ["amy@example.com", "bob@example.com"]


def test_guests_see_no_note_about_the_hosts_address(newcomer, newcomers_party):
    services.announce(party=newcomers_party, author=newcomer, audience="going", text="Hi")
    guest = newcomers_party.rsvps.first().guest

    page = client_for(guest).get(newcomers_party.get_absolute_url())

    assert "Hi" in page_text(page)
    assert HELD not in page_text(page)


def test_a_confirmed_hosts_message_goes_at_once(committing, mailoutbox):
    host = UserFactory()
    party = DinnerPartyFactory(host=host)
    services.rsvp_submit(party=party, guest=UserFactory(email="amy@example.com"), status="going")
    mailoutbox.clear()

    with committing():
        services.announce(party=party, author=host, audience="going", text="Hi")

    assert recipients(mailoutbox) == ["amy@example.com"]
    assert Announcement.objects.get().emailed_at is not None


# --- Released after 7 days --------------------------------------------------------------


def unconfirmed_since(days: float, **fields) -> User:
    return UserFactory(
        unconfirmed=True, date_joined=timezone.now() - timedelta(days=days), **fields
    )


def test_an_address_unconfirmed_for_a_week_goes_to_whoever_signs_up_with_it(
    client, committing, mailoutbox
):
    squatter = unconfirmed_since(7.01, username="squatter", email="Bruno@Example.com")
    party = DinnerPartyFactory(host=squatter)

    response = sign_up(client, committing)

    assertRedirects(response, reverse("parties:list"))
    assert User.objects.get(username="bruno").email == "bruno@example.com"
    squatter = reloaded(squatter)
    assert squatter.email == ""  # the account and its party stay; the address went
    assert squatter.hosted_parties.get() == party
    assert recipients(mailoutbox) == ["bruno@example.com"]


def test_an_address_unconfirmed_for_less_than_a_week_is_still_taken(client, committing):
    holder = unconfirmed_since(6.9, email="bruno@example.com")

    response = sign_up(client, committing)

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email already exists."
    ]
    assert reloaded(holder).email == "bruno@example.com"


def test_a_confirmed_address_is_never_released(client, committing):
    UserFactory(email="bruno@example.com", date_joined=timezone.now() - timedelta(days=400))

    response = sign_up(client, committing)

    assert response.context["form"].errors["email"]
    assert User.objects.filter(email="bruno@example.com").count() == 1


def test_the_command_releases_every_stale_address():
    stale = [unconfirmed_since(8), unconfirmed_since(30)]
    fresh = unconfirmed_since(1)
    confirmed = UserFactory(date_joined=timezone.now() - timedelta(days=30))
    out = StringIO()

    call_command("release_unconfirmed_emails", stdout=out)

    assert out.getvalue().strip() == "Released 2 unconfirmed email addresses."
    assert [reloaded(user).email for user in stale] == ["", ""]
    assert reloaded(fresh).email == fresh.email
    assert reloaded(confirmed).email == confirmed.email
    call_command("release_unconfirmed_emails", stdout=out)
    assert out.getvalue().strip().endswith("Released 0 unconfirmed email addresses.")


def test_an_account_whose_address_was_released_can_add_one(committing, mailoutbox):
    stale = unconfirmed_since(8, username="nina", email="nina@example.com")
    verification.release_stale_addresses()
    client = client_for(stale)

    banner = page_text(client.get(reverse("parties:list")))
    assert "Your account has no email address" in banner

    change_email(client, committing, "nina@elsewhere.example")
    assert recipients(mailoutbox) == ["nina@elsewhere.example"]  # no notice to "no address"
    confirm(client, link_in(mailoutbox[0]), committing)

    stale = reloaded(stale)
    assert (stale.email, stale.pending_email, stale.email_confirmed) == (
        "nina@elsewhere.example",
        "",
        True,
    )


def test_a_new_address_may_be_one_left_unconfirmed_for_a_week(committing, mailoutbox):
    stale = unconfirmed_since(8, email="wanted@example.com")
    ana = UserFactory(username="ana", email="ana@example.com")
    client = client_for(ana)

    assert change_email(client, committing, "wanted@example.com").status_code == 302
    link = CONFIRM_LINK.search(mailoutbox[0].body)[1]
    confirm(client, link, committing)

    assert reloaded(ana).email == "wanted@example.com"
    assert reloaded(stale).email == ""


# --- Changing the address ---------------------------------------------------------------


def test_changing_the_address_confirms_the_new_one_and_tells_the_old_one(committing, mailoutbox):
    ana = UserFactory(username="ana", email="ana@example.com")
    client = client_for(ana)

    response = change_email(client, committing, "ana.new@example.com")

    assertRedirects(response, reverse("profile"), fetch_redirect_response=False)
    saved = reloaded(ana)
    assert (saved.email, saved.pending_email) == ("ana@example.com", "ana.new@example.com")
    assert sorted(recipients(mailoutbox)) == ["ana.new@example.com", "ana@example.com"]
    to_new = next(m for m in mailoutbox if m.to == ["ana.new@example.com"])
    to_old = next(m for m in mailoutbox if m.to == ["ana@example.com"])
    assert to_old.subject == "Your DinnerParty email address is being changed"
    assert "to ana.new@example.com" in to_old.body
    assert "/accounts/password_reset/" in to_old.body
    assert "/accounts/email/confirm/" not in to_old.body
    profile = page_text(client.get(reverse("profile")))
    assert "Waiting for you to confirm ana.new@example.com" in profile
    assert "Please confirm your email address" not in profile  # the account is confirmed

    confirm(client, link_in(to_new), committing)

    saved = reloaded(ana)
    assert (saved.email, saved.pending_email) == ("ana.new@example.com", "")
    assert saved.email_confirmed_at > ana.email_confirmed_at
    assert (
        Client()
        .post(reverse("login"), {"username": "ana.new@example.com", "password": DEFAULT_PASSWORD})
        .status_code
        == 302
    )


@pytest.mark.parametrize("password", ["", "not-the-right-password-at-all"])
def test_changing_the_address_needs_the_password(committing, mailoutbox, password):
    ana = UserFactory(username="ana", email="ana@example.com")

    response = change_email(client_for(ana), committing, "ana.new@example.com", password)

    assert response.status_code == 200
    assert response.context["form"].errors["current_password"]
    assert reloaded(ana).pending_email == ""
    assert mailoutbox == []


def test_the_old_address_works_until_the_new_one_is_confirmed(committing, mailoutbox):
    ana = UserFactory(username="ana", email="ana@example.com")
    change_email(client_for(ana), committing, "ana.new@example.com")
    mailoutbox.clear()

    with committing():
        services.rsvp_submit(party=DinnerPartyFactory(), guest=ana, status="going")

    assert "ana@example.com" in recipients(mailoutbox)
    assert "ana.new@example.com" not in recipients(mailoutbox)


def test_a_new_password_kills_a_change_someone_else_asked_for(committing, mailoutbox):
    ana = UserFactory(username="ana", email="ana@example.com")
    client = client_for(ana)
    change_email(client, committing, "thief@example.com")
    link = link_in(next(m for m in mailoutbox if m.to == ["thief@example.com"]))
    ana = reloaded(ana)
    ana.set_password(NEW_PASSWORD)
    ana.save()

    response = confirm(Client(), link, committing)

    assert "This link is out of date" in page_text(response)
    assert reloaded(ana).email == "ana@example.com"


def test_a_pending_change_can_be_cancelled(committing, mailoutbox):
    ana = UserFactory(username="ana", email="ana@example.com")
    client = client_for(ana)
    change_email(client, committing, "ana.new@example.com")
    link = link_in(next(m for m in mailoutbox if m.to == ["ana.new@example.com"]))

    response = client.post(reverse("email_change_cancel"), follow=True)

    assert "The change of email address is cancelled." in page_text(response)
    assert reloaded(ana).pending_email == ""
    assert "This link is out of date" in page_text(confirm(client, link, committing))
    assert reloaded(ana).email == "ana@example.com"
    assert client.get(reverse("email_change_cancel")).status_code == 405


def test_a_new_address_taken_meanwhile_is_not_confirmed(committing, mailoutbox):
    ana = UserFactory(username="ana", email="ana@example.com")
    client = client_for(ana)
    change_email(client, committing, "popular@example.com")
    link = link_in(next(m for m in mailoutbox if m.to == ["popular@example.com"]))
    UserFactory(email="Popular@example.com")  # signed up (and confirmed) in the meantime

    response = confirm(client, link, committing)

    assert "That address now belongs to another account" in page_text(response)
    saved = reloaded(ana)
    assert (saved.email, saved.pending_email) == ("ana@example.com", "")


def test_an_unconfirmed_user_fixing_a_typo_confirms_the_account(newcomer, committing, mailoutbox):
    client = client_for(newcomer)

    change_email(client, committing, "nina@example.org")

    assert recipients(mailoutbox) == ["nina@example.org"]  # nothing to the unconfirmed one
    banner = page_text(client.get(reverse("parties:list")))
    assert "open the link we sent to nina@example.org" in banner
    confirm(client, link_in(mailoutbox[0]), committing)
    saved = reloaded(newcomer)
    assert (saved.email, saved.email_confirmed) == ("nina@example.org", True)


def test_a_change_of_letter_case_needs_no_link(committing, mailoutbox):
    ana = UserFactory(username="ana", email="ana@example.com")

    change_email(client_for(ana), committing, "Ana@example.com", password="")

    assert (reloaded(ana).email, reloaded(ana).pending_email) == ("Ana@example.com", "")
    assert mailoutbox == []


def test_changing_the_address_counts_against_the_link_limit(committing, mailoutbox, settings):
    settings.EMAIL_CONFIRMATIONS_PER_ACCOUNT_PER_HOUR = 1
    ana = UserFactory(username="ana", email="ana@example.com")
    client = client_for(ana)
    change_email(client, committing, "one@example.com")

    refused = change_email(client, committing, "two@example.com")

    assert refused.status_code == 429
    assert "Too many attempts" in page_text(refused)
    assert reloaded(ana).pending_email == "one@example.com"
    assert "two@example.com" not in recipients(mailoutbox)


# --- The email fields ---------------------------------------------------------------------


HOSTILE_ADDRESSES = [
    "",
    "   ",
    "not-an-email",
    f"{'a' * 250}@example.com",  # 262 characters: over 254
    "<script>alert(1)</script>@example.com",
    "bruno@example.com\r\nBcc: everyone@example.com",
    "bruno\x00@example.com",
    "bruno@exa mple.com",
]


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_sign_up_refuses_an_address_that_is_not_one(client, committing, mailoutbox, address):
    response = sign_up(client, committing, email=address)

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert "<script>alert" not in response.content.decode()
    assert not User.objects.filter(username="bruno").exists()
    assert mailoutbox == []


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_the_profile_refuses_an_address_that_is_not_one(committing, mailoutbox, address):
    ana = UserFactory(username="ana", email="ana@example.com")

    response = change_email(client_for(ana), committing, address)

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert "<script>alert" not in response.content.decode()
    assert (reloaded(ana).email, reloaded(ana).pending_email) == ("ana@example.com", "")
    assert mailoutbox == []


@pytest.mark.parametrize(
    "email",
    [
        42,
        ["bruno@example.com", "not-an-email"],  # a repeated field: Django reads the last
        SimpleUploadedFile("bruno@example.com", b"a file, not an address"),
    ],
    ids=["number", "list", "file"],
)
def test_sign_up_refuses_an_address_of_the_wrong_type(client, committing, mailoutbox, email):
    with committing():
        response = client.post(reverse("register"), {**register_data(), "email": email})

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not User.objects.filter(username="bruno").exists()
    assert mailoutbox == []


def test_an_address_is_shown_escaped_in_the_banner_and_the_emails(committing, mailoutbox):
    odd = '"<b>odd</b>"@example.com'
    ana = UserFactory(username="ana", email="ana@example.com", unconfirmed=True)
    client = client_for(ana)
    response = change_email(client, committing, odd)
    assert response.status_code == 302, response.context["form"].errors

    page = client.get(reverse("parties:list")).content.decode()

    assert "<b>odd</b>" not in page
    assert "&lt;b&gt;odd&lt;/b&gt;" in page
    assert "<b>odd</b>" not in mailoutbox[0].alternatives[0].content
