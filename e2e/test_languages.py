"""A visitor switches the site to German in the footer, signs up, confirms the
address and replies to a party: pages, messages and emails read German, while the
host, who keeps English, hears of the reply in English (issue 23).

What the pages should say is read from the German catalogue at test time
(`in_german`), so the test follows the translations; it also checks each such
text differs from the English, so an untranslated message fails here."""

import re

import pytest
from django.core import mail
from django.utils import translation
from django.utils.text import capfirst
from playwright.sync_api import Page, expect

from accounts.models import User
from e2e.helpers import PASSWORD, messages

pytestmark = pytest.mark.e2e

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/[^\s]*confirm[^\s]*/)")


def in_german(message: str, context: str | None = None) -> str:
    """`message` as the German pages show it, asserting it is translated."""
    with translation.override("de"):
        text = translation.pgettext(context, message) if context else translation.gettext(message)
    assert text != message, f"“{message}” has no German translation"
    return text


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_a_visitor_uses_the_site_in_german_and_the_host_hears_in_english(
    new_page, make_user, make_party
):
    ana = make_user("ana", first_name="Ana", language="en")
    party = make_party(ana, title="Paella night")

    page = new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change language").click()

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(heading(page)).to_have_text(in_german("Dinner parties, without the spreadsheet"))

    page.get_by_role("link", name=in_german("Sign up — it's free")).click()
    expect(heading(page)).to_have_text(in_german("Sign up"))
    page.get_by_label(capfirst(in_german("username"))).fill("nadia")  # the model's name
    page.get_by_label(in_german("Email")).fill("nadia@example.com")
    page.get_by_role("textbox", name=in_german("Password"), exact=True).fill(PASSWORD)
    page.get_by_label(in_german("Password confirmation")).fill(PASSWORD)
    page.get_by_role("button", name=in_german("Create my account")).click()

    expect(heading(page)).to_have_text(in_german("Upcoming parties"))
    nadia = User.objects.get(username="nadia")
    assert nadia.language == "de"  # from the switcher's choice, kept on the account

    # The address confirmation email is German; its link confirms the address.
    (confirmation,) = [m for m in mail.outbox if m.to == ["nadia@example.com"]]
    assert confirmation.extra_headers.get("Content-Language") == "de"
    page.goto(CONFIRM_LINK.search(confirmation.body).group(1))
    page.get_by_role("button", name=in_german("Confirm my address")).click()
    nadia.refresh_from_db()
    assert nadia.email_confirmed
    mail.outbox.clear()

    page.goto(party.get_absolute_url())
    expect(heading(page)).to_have_text("Paella night")
    form = page.get_by_role("region", name=in_german("Are you coming?"))
    form.get_by_label(in_german("Going"), exact=True).check()
    form.get_by_role("button", name=in_german("Send my reply")).click()
    expect(messages(page)).not_to_contain_text("You're going")
    expect(page.get_by_role("region", name=in_german("Guest list"))).to_contain_text("nadia")

    guest_email = next(m for m in mail.outbox if m.to == ["nadia@example.com"])
    host_email = next(m for m in mail.outbox if m.to == ["ana@example.com"])
    assert guest_email.extra_headers.get("Content-Language") == "de"
    assert guest_email.subject.startswith(
        in_german("You're going to “%(title)s”") % {"title": "Paella night"}
    )
    assert host_email.extra_headers.get("Content-Language") == "en"
    assert host_email.subject.startswith("nadia is going to “Paella night”")
