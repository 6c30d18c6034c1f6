"""Signing up, logging in and out, the login wall and the profile, in a browser."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from e2e.helpers import PASSWORD, expect_field_error, log_in, messages, save_screenshot

pytestmark = pytest.mark.e2e


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_sign_up_log_out_log_in_with_email_and_edit_the_profile(new_page):
    page = new_page()
    page.goto("/")
    expect(heading(page)).to_have_text("Dinner parties, without the spreadsheet")

    page.get_by_role("link", name="Sign up — it's free").click()
    expect(heading(page)).to_have_text("Sign up")
    expect(page).to_have_title("Sign up · DinnerParty")
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Email").fill("nadia@example.com")
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(re.compile(r"/parties/$"))
    expect(messages(page)).to_contain_text("Welcome to DinnerParty, nadia!")
    expect(heading(page)).to_have_text("Upcoming parties")
    expect(page.get_by_text("No upcoming parties yet — host the first one.")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(messages(page)).to_contain_text("You've been logged out.")
    expect(heading(page)).to_have_text("Dinner parties, without the spreadsheet")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in").click()
    log_in(page, "Nadia@Example.com")  # the email, in any case
    expect(messages(page)).to_contain_text("Welcome back, nadia!")
    expect(heading(page)).to_have_text("Upcoming parties")

    page.get_by_role("link", name="Profile").click()
    expect(heading(page)).to_have_text("Your profile")
    expect(page).to_have_title("Your profile · DinnerParty")
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_label("Dietary notes").fill("vegetarian, no nuts")
    page.get_by_label("Time zone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Save profile").click()

    expect(messages(page)).to_contain_text("Your profile has been saved.")
    expect(page.get_by_label("Dietary notes")).to_have_value("vegetarian, no nuts")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
    nadia = User.objects.get(username="nadia")
    assert (nadia.get_full_name(), nadia.timezone) == ("Nadia Haddad", "Europe/Lisbon")


def test_the_login_wall_leads_back_to_the_page_asked_for(new_page, make_user):
    make_user("ana")
    page = new_page()

    page.goto("/parties/new/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/parties/new/$"))
    expect(heading(page)).to_have_text("Log in")
    log_in(page, "ana")
    expect(page).to_have_url(re.compile(r"/parties/new/$"))
    expect(heading(page)).to_have_text("Host a dinner party")
    expect(messages(page)).to_contain_text("Welcome back, ana!")


def test_the_sign_up_form_shows_each_error_beside_its_field(new_page, make_user):
    make_user("ana")
    page = new_page()
    page.goto("/accounts/register/")

    page.get_by_label("Username").fill("ANA")
    page.get_by_label("Email").fill("ana@EXAMPLE.com")
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD + "?")
    page.get_by_role("button", name="Create my account").click()

    expect(messages(page)).to_contain_text("Please fix the errors below.")
    expect_field_error(page, "username", "already exists")
    expect_field_error(page, "email", "An account with this email already exists.")
    expect_field_error(page, "password2", "The two password fields didn’t match.")

    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_role("textbox", name="Password", exact=True).fill("too-short")
    page.get_by_label("Password confirmation").fill("too-shorter")
    page.get_by_role("button", name="Create my account").click()

    # All at once, each under its own field: the length under Password, the
    # mismatch under the confirmation.
    expect_field_error(page, "email", "Enter a valid email address.")
    expect_field_error(page, "password1", "at least 15 characters")
    expect_field_error(page, "password2", "The two password fields didn’t match.")
    expect(page.locator("#div_id_password2")).not_to_contain_text("at least 15 characters")
    expect(page.locator("#div_id_username .invalid-feedback")).to_have_count(0)
    save_screenshot(page, "sign-up-errors")
    assert not User.objects.filter(username="nadia").exists()


def test_a_new_member_gets_the_time_zone_of_their_browser(browser, live_server):
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: problems.append(message.text))
        page.goto("/accounts/register/")
        expect(page.locator("input[name=timezone]")).to_have_value("Asia/Tokyo")
        page.get_by_label("Username").fill("kenji")
        page.get_by_label("Email").fill("kenji@example.com")
        page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password confirmation").fill(PASSWORD)
        page.get_by_role("button", name="Create my account").click()
        expect(messages(page)).to_contain_text("Welcome to DinnerParty")

        page.goto("/accounts/profile/")
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    finally:
        context.close()
    assert User.objects.get(username="kenji").timezone == "Asia/Tokyo"
    assert not [text for text in problems if "Content Security Policy" in text]


def test_the_login_form_shows_its_errors(new_page, make_user):
    make_user("ana")
    page = new_page()
    page.goto("/accounts/login/")

    page.get_by_label("Username or email").fill("ana")
    page.get_by_role("button", name="Log in").click()
    expect_field_error(page, "password", "This field is required.")

    log_in(page, "ana", "not-the-right-password")
    expect(page.get_by_role("alert")).to_contain_text(
        "That username or email and password don't match."
    )
    expect(heading(page)).to_have_text("Log in")


def test_the_profile_form_shows_its_errors_beside_the_fields(new_page, make_user):
    ana = make_user("ana")
    make_user("ben")
    page = new_page(ana)
    page.goto("/accounts/profile/")

    page.get_by_label("Email address").fill("ben@example.com")
    page.get_by_role("button", name="Save profile").click()
    expect(messages(page)).to_contain_text("Please fix the errors below.")
    expect_field_error(page, "email", "An account with this email already exists.")

    page.get_by_label("Email address").fill("ana.new@example.com")
    page.get_by_role("button", name="Save profile").click()
    expect_field_error(
        page, "current_password", "Enter your current password to change your email address."
    )

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Save profile").click()
    expect(messages(page)).to_contain_text("Your profile has been saved.")
    expect(messages(page)).to_contain_text("We've sent a link to ana.new@example.com")
    ana.refresh_from_db()  # the new address waits for its link
    assert (ana.email, ana.pending_email) == ("ana@example.com", "ana.new@example.com")


def test_an_expired_form_gets_the_sites_own_403_page(new_page, make_user):
    make_user("ana")
    page = new_page()
    page.goto("/accounts/login/")
    page.context.clear_cookies()  # as if the CSRF cookie had gone

    log_in(page, "ana")

    expect(heading(page)).to_have_text("That form has expired")
    expect(page).to_have_title("Form expired · DinnerParty")


def test_a_new_account_is_asked_to_confirm_its_address_and_can_get_the_link_again(
    new_page, make_user
):
    nina = make_user("nina", email_confirmed_at=None)
    page = new_page(nina)
    page.goto("/parties/")

    banner = page.get_by_role("region", name="Your email address")
    expect(banner).to_contain_text("Please confirm your email address")
    expect(banner).to_contain_text("nina@example.com")
    banner.get_by_role("button", name="Send the link again").click()

    expect(page).to_have_url(re.compile(r"/parties/$"))
    expect(messages(page)).to_contain_text("We've sent a link to nina@example.com")
