"""Every main page, as a person sees it on a desktop and on a phone: no serious or
critical accessibility problem (axe-core), no sideways scrolling at 375×740, a
collapsed menu, full-width forms and cards, and a screenshot of each in
var/screenshots/ for people to review."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error
from playwright.sync_api import Page, expect

from accounts import verification
from accounts.models import User
from dinnerparty.views import database_unavailable
from e2e.helpers import assert_accessible, evening_in, save_screenshot
from parties import services
from parties.models import DinnerParty, Visibility

pytestmark = pytest.mark.e2e

MIN_TAP_HEIGHT = 44  # px: a comfortable finger target on a phone
TEMPLATES = Path(settings.BASE_DIR) / "templates"


@dataclass
class Site:
    users: dict[str, User]
    paella: DinnerParty
    roast: DinnerParty


@pytest.fixture
def site(make_user, make_party) -> Site:
    """A small, lived-in site: a full party with a waitlist, another host's party,
    and a private one."""
    users = {
        name: make_user(name, first_name=name.title(), last_name=last, dietary_notes=diet)
        for name, last, diet in [
            ("ana", "García", "vegetarian"),
            ("ben", "Okafor", ""),
            ("cleo", "Martin", "no nuts, please"),
            ("dev", "Patel", "gluten-free"),
            ("eva", "Schmidt", ""),
        ]
    }
    paella = make_party(users["ana"], description="Bring a dessert if you like. Doors at 18:30.")
    for name, plus_ones, note in [("ben", 1, "I'll bring wine"), ("cleo", 1, ""), ("dev", 0, "")]:
        services.rsvp_submit(
            party=paella, guest=users[name], status="going", plus_ones=plus_ones, note=note
        )
    services.rsvp_submit(party=paella, guest=users["eva"], status="maybe", note="Depends on work")
    roast = make_party(
        users["ben"],
        title="Sunday roast",
        starts_at=evening_in(3, "Europe/London"),
        timezone="Europe/London",
        venue="The Old Vicarage, 4 Church Lane, Oxford",
        main_dish="Roast chicken with all the trimmings",
        seats=8,
    )
    make_party(users["ana"], title="Birthday supper", visibility=Visibility.PRIVATE, seats=6)
    # Signed up, asked for another address, and has opened neither link yet.
    users["nina"] = make_user(
        "nina", first_name="Nina", email_confirmed_at=None, pending_email="nina.new@example.com"
    )
    return Site(users=users, paella=paella, roast=roast)


# name: (who is logged in, the page's URL, its title before " · DinnerParty")
PAGES = {
    "home": (None, lambda site: reverse("home"), "Dinner parties with friends"),
    "sign-up": (None, lambda site: reverse("register"), "Sign up"),
    "log-in": (None, lambda site: reverse("login"), "Log in"),
    "password-reset": (None, lambda site: reverse("password_reset"), "Reset password"),
    "parties": ("ben", lambda site: reverse("parties:list"), "Upcoming parties"),
    "party-as-host": ("ana", lambda site: site.paella.get_absolute_url(), "Paella night"),
    "party-as-guest": ("dev", lambda site: site.paella.get_absolute_url(), "Paella night"),
    "party-new": ("ana", lambda site: reverse("parties:create"), "Host a party"),
    "party-edit": (
        "ana",
        lambda site: reverse("parties:update", args=[site.paella.pk]),
        "Edit Paella night",
    ),
    "party-delete": (
        "ana",
        lambda site: reverse("parties:delete", args=[site.paella.pk]),
        "Delete Paella night",
    ),
    "profile": ("ana", lambda site: reverse("profile"), "Your profile"),
    "guest-sheet": (
        "ana",
        lambda site: reverse("parties:guest_sheet", args=[site.paella.pk]),
        "Guest sheet: Paella night",
    ),
    "password-reset-sent": (None, lambda site: reverse("password_reset_done"), "Check your email"),
    "password-reset-expired": (
        None,
        lambda site: reverse("password_reset_confirm", args=["MQ", "set-password"]),
        "Set a new password",
    ),
    "password-reset-complete": (
        None,
        lambda site: reverse("password_reset_complete"),
        "Password set",
    ),
    "password-change": ("ben", lambda site: reverse("password_change"), "Change password"),
    "password-changed": ("ben", lambda site: reverse("password_change_done"), "Password changed"),
    "account-delete": ("ben", lambda site: reverse("account_delete"), "Delete your account"),
    "not-found": ("ben", lambda site: "/parties/999999/", "Not found"),
    "parties-unconfirmed": ("nina", lambda site: reverse("parties:list"), "Upcoming parties"),
    "profile-unconfirmed": ("nina", lambda site: reverse("profile"), "Your profile"),
    "email-confirm": (
        "nina",
        lambda site: reverse("email_confirm", args=[verification.link_token(site.users["nina"])]),
        "Confirm your email address",
    ),
    "email-confirm-bad-link": (
        None,
        lambda site: reverse("email_confirm", args=["sample"]),
        "Confirm your email address",
    ),
}


def open_page(new_page, site: Site, name: str, *, phone: bool) -> Page:
    """Open the page called `name` as its user would, and check what every page has:
    one h1, a title naming the page, the favicon."""
    username, url, title = PAGES[name]
    page = new_page(site.users[username] if username else None, phone=phone)
    page.goto(url(site))
    expect(page.locator("h1")).to_have_count(1)
    expect(page).to_have_title(f"{title} · DinnerParty")
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/static/img/favicon.svg")
    return page


@pytest.mark.parametrize("name", PAGES)
def test_desktop_page_has_no_serious_accessibility_problems(name, site, new_page):
    page = open_page(new_page, site, name, phone=False)

    assert_accessible(page)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator(".messages[role=status]")).to_have_count(1)
    save_screenshot(page, f"{name}-desktop")


@pytest.mark.parametrize("name", PAGES)
def test_phone_page_fits_the_screen(name, site, new_page):
    page = open_page(new_page, site, name, phone=True)

    width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], f"{name} scrolls sideways on a phone: {width}"
    # The menu collapses behind its toggle button.
    expect(page.get_by_role("button", name="Toggle navigation")).to_be_visible()
    expect(page.locator("#main-nav")).to_be_hidden()
    assert_full_width(page, "main form:not(.d-inline)")
    assert_full_width(page, ".party-card")
    assert_tappable(page)
    assert_accessible(page)
    save_screenshot(page, f"{name}-phone")


def test_phone_menu_opens_with_a_tap(site, new_page):
    page = new_page(site.users["ben"], phone=True)
    page.goto(reverse("home"))

    page.get_by_role("button", name="Toggle navigation").tap()

    menu = page.locator("#main-nav")
    expect(menu).to_have_class(re.compile(r"\bshow\b"))  # opened, not still sliding
    expect(menu.get_by_role("link", name="Parties")).to_be_visible()
    expect(menu.get_by_role("link", name="Host a party")).to_be_visible()
    expect(menu.get_by_role("button", name="Log out")).to_be_visible()
    save_screenshot(page, "menu-open-phone")
    menu.get_by_role("link", name="Parties").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming parties")


def assert_full_width(page: Page, selector: str) -> None:
    """Each visible element matching `selector` spans the content column."""
    column = page.locator("main").evaluate(
        "el => el.clientWidth - parseFloat(getComputedStyle(el).paddingLeft)"
        " - parseFloat(getComputedStyle(el).paddingRight)"
    )
    for element in page.locator(selector).all():
        if element.is_visible():
            # A form inside a card spans the card, and the card the column.
            width = element.evaluate("el => (el.closest('.card') || el).offsetWidth")
            assert width >= column - 2, f"{selector} is {width}px of {column}px"


def assert_tappable(page: Page) -> None:
    """Buttons, text fields and menus are tall enough for a finger."""
    targets = page.locator(
        "main .btn, main .form-control, main .form-select, .navbar-toggler, .navbar-brand"
    )
    for target in targets.all():
        if target.is_visible():
            box = target.bounding_box()
            label = target.evaluate("el => el.outerHTML.slice(0, 80)")
            assert box["height"] >= MIN_TAP_HEIGHT, f"{label} is {box['height']}px tall"


def test_forms_with_errors_stay_accessible(site, new_page):
    for phone in (False, True):
        size = "phone" if phone else "desktop"
        page = new_page(phone=phone)
        page.goto(reverse("register"))
        page.get_by_role("button", name="Create my account").click()
        expect(page.locator(".is-invalid").first).to_be_visible()
        assert_accessible(page)
        save_screenshot(page, f"sign-up-errors-{size}")

        page = new_page(site.users["ana"], phone=phone)
        page.goto(reverse("parties:create"))
        page.get_by_role("button", name="Create party").click()
        expect(page.locator(".is-invalid").first).to_be_visible()
        assert_accessible(page)
        save_screenshot(page, f"party-new-errors-{size}")


def test_an_empty_list_invites_people_to_host(new_page, make_user):
    for phone in (False, True):
        page = new_page(make_user(f"zoe{int(phone)}"), phone=phone)
        page.goto(reverse("parties:list"))
        empty = page.locator(".empty-state")
        expect(empty).to_contain_text("No upcoming parties yet — host the first one.")
        expect(empty.get_by_role("link", name="Host a party")).to_be_visible()
        assert_accessible(page)
        save_screenshot(page, f"parties-empty-{'phone' if phone else 'desktop'}")


@pytest.mark.parametrize(
    ("render", "status", "heading", "name"),
    [
        (lambda: server_error(RequestFactory().get("/")), 500,
         "Something went wrong on our side", "server-error"),
        (database_unavailable, 503, "We'll be back in a moment", "database-unavailable"),
    ],
)  # fmt: skip
def test_the_error_pages_need_no_database_and_look_like_the_site(
    new_page, django_assert_num_queries, render, status, heading, name
):
    with django_assert_num_queries(0):
        response = render()
    assert response.status_code == status
    for phone in (False, True):
        page = new_page(phone=phone)
        page.route(
            "**/broken",
            lambda route: route.fulfill(
                status=status, content_type="text/html", body=response.content
            ),
        )
        page.goto("/broken")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
        expect(page.locator("main svg")).to_be_visible()
        assert_accessible(page)
        save_screenshot(page, f"{name}-{'phone' if phone else 'desktop'}")


def test_templates_have_no_inline_scripts_or_styles():
    """The Content-Security-Policy would block them (the browser tests also fail on
    any CSP violation the console reports)."""
    inline = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=["']|<style""", re.I)
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        if not path.is_relative_to(TEMPLATES / "emails")  # emails carry no CSP
        for match in inline.finditer(path.read_text())
    ]
    assert not found


def test_keyboard_users_can_skip_to_the_content_and_see_the_focus(site, new_page):
    page = new_page(site.users["ben"])
    page.goto(reverse("parties:list"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))

    page.keyboard.press("Tab")  # the first link inside the content
    focused = page.locator(":focus")
    expect(focused).to_have_text("Host a party")
    outline = focused.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline not in ("", "none"), "the focused link has no visible outline"
